"""`python -m celeba_dcgan.dcgan_faces ...`, the same as the `dcgan-faces` command."""
import sys

from celeba_dcgan.dcgan_faces.cli import main

sys.exit(main())
