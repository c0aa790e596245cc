"""A named MAE config as tests/reference/mae_reference.py's MAEConfig, read from MaeConfig.java so that PyTorch's side
of a comparison builds the same model as ours (bench/compare_torch.py, bench/torch_gpu.py). Importing this imports
torch (through mae_reference): set thread variables first."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import mae_reference as ref  # noqa: E402


def config(name):
    src = open(os.path.join(ROOT, "mae/src/main/java/mae/model/MaeConfig.java")).read()
    mt = re.search(r'NAMED\.put\("%s",\s*new MaeConfig\("%s",([^)]*)\)' % (re.escape(name), re.escape(name)), src)
    if not mt:
        sys.exit(f"config {name!r} not found in MaeConfig.java")
    v = [x.strip().rstrip("f") for x in mt.group(1).split(",")]
    return ref.MAEConfig(*[int(x) for x in v[:9]], mlp_ratio=float(v[9]), norm_pix_loss=(v[10] == "true"))
