"""Build the archive (and, as they land, the index and site) from seeds/.

``python build_site.py [options]`` is exactly ``kexue-archive build [options]``.
"""

import sys

from kexue_archive.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
