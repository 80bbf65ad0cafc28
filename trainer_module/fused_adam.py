"""Keras' Adam with its dense update done by TensorFlow's fused kernel.

Keras 2's Adam updates each variable with about ten element-wise ops (m, v, their square root,
the division, the subtraction), each a pass over the variable's memory. TensorFlow's
ResourceApplyAdam computes the same formula in one pass:

    m <- m + (1 - beta_1) (g - m);  v <- v + (1 - beta_2) (g^2 - v)
    w <- w - lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

With millions of weights in G and D that is a fixed cost per step whatever the batch, so it
weighs most at the default batch of 32 (docs/trainer.md#on-avx2-cpus). The optimizer's
variables (iterations, m and v per weight) are Keras' own, so checkpoints, their resume and
MirroredStrategy's per-replica updates are unchanged; sparse gradients, AMSGrad and the adaptive
epsilon keep Keras' own update.
"""

import tensorflow as tf
import tf_keras as keras


class FusedAdam(keras.optimizers.Adam):
    def update_step(self, gradient, variable):
        if isinstance(gradient, tf.IndexedSlices) or self.amsgrad or self.adaptive_epsilon:
            return super().update_step(gradient, variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        index = self._index_dict[self._var_key(variable)]
        return tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(self.learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=gradient,
        )
