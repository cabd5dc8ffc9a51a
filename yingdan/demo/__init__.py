"""Generated data: the demo company (`company.py`, `yingdan seed --demo`) and benchmark volumes
(`scale.py`, `yingdan seed --scale N`)."""
