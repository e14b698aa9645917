import sys

from backprop_doctor.cli import main

sys.exit(main())
