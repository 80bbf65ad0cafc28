"""`python -m dcgan_faces ...`, the same as the `dcgan-faces` command."""

import sys

from dcgan_faces.cli import main

sys.exit(main())
