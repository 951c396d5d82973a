import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# scripts/ is not a package; its pure steps are tested directly.
sys.path.insert(0, str(REPO / "scripts"))
