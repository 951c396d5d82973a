"""Run the benchmarks: ``python bench/run.py [--events N ...] [--only PARTS] [--json] [--write]``.

See ``--help`` and bench/RESULTS.md. A thin entry point: the code lives in the bench package.
"""

import sys
from pathlib import Path

# Run as a script, Python puts bench/ (not the repo root) on the path; the package needs the
# root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
