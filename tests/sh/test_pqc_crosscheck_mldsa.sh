#!/usr/bin/env bash
# test_pqc_crosscheck_mldsa.sh - ML-DSA-65 against an independent
# implementation: OpenSSL (through Python `cryptography` >= 48).
#  - the public key derived from the same 32-byte seed is identical;
#  - our signatures (deterministic and hedged, with and without context)
#    verify in Python, and a flipped byte makes Python reject them;
#  - Python's signatures (hedged, random) verify with our verifier, and
#    flipped signature/message bytes or a wrong context are rejected.
# Skips (77) when python3, cryptography's ML-DSA or the tool are missing.
set -eu
tool=${AQ_BUILD_DIR:-build/asan}/pqc_mldsa_tool
[ -x "$tool" ] || { echo "no $tool: skip"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "no python3: skip"; exit 77; }
python3 -c 'from cryptography.hazmat.primitives.asymmetric import mldsa; mldsa.MLDSA65PrivateKey.from_seed_bytes(bytes(32))' \
  >/dev/null 2>&1 || { echo "python cryptography without ML-DSA-65: skip"; exit 77; }

TOOL="$tool" python3 - <<'PY'
import os, subprocess, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives import serialization as ser

tool = os.environ["TOOL"]
rng = __import__("random").Random(204)
fails = 0
checks = 0

def run(*args):
    p = subprocess.run([tool, *args], capture_output=True, text=True)
    return p.returncode, p.stdout.strip()

def hx(b):
    return b.hex() if b else "-"

def check(cond, what):
    global fails, checks
    checks += 1
    if not cond:
        fails += 1
        print("FAIL:", what)

def py_verify(pub, sig, msg, ctx):
    try:
        pub.verify(sig, msg, ctx if ctx else None)
        return True
    except InvalidSignature:
        return False

cases = [(0, b""), (1, b""), (33, b""), (1000, b"ctx"), (5000, bytes(range(255)))]
for i, (mlen, ctx) in enumerate(cases):
    seed = bytes(rng.randrange(256) for _ in range(32))
    msg = bytes(rng.randrange(256) for _ in range(mlen))
    priv = mldsa.MLDSA65PrivateKey.from_seed_bytes(seed)
    pub = priv.public_key()
    pkb = pub.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    rc, ours = run("keygen", seed.hex())
    check(rc == 0 and ours == pkb.hex(), f"case {i}: pk from seed differs")
    # our signatures -> Python
    for rnd in (None, bytes(rng.randrange(256) for _ in range(32))):
        args = ["sign", seed.hex(), hx(msg), hx(ctx)] + ([rnd.hex()] if rnd else [])
        rc, sighex = run(*args)
        check(rc == 0 and len(sighex) == 2 * 3309, f"case {i}: our sign failed")
        sig = bytes.fromhex(sighex)
        check(py_verify(pub, sig, msg, ctx), f"case {i} rnd={rnd is not None}: Python rejects our signature")
        bad = bytearray(sig); bad[rng.randrange(len(bad))] ^= 0x04
        check(not py_verify(pub, bytes(bad), msg, ctx), f"case {i}: Python accepts our corrupted signature")
    # Python signatures -> ours
    psig = priv.sign(msg, ctx if ctx else None)
    rc, out = run("verify", pkb.hex(), hx(msg), psig.hex(), hx(ctx))
    check(rc == 0 and out == "ok", f"case {i}: we reject Python's signature")
    bad = bytearray(psig); bad[rng.randrange(len(bad))] ^= 0x10
    rc, out = run("verify", pkb.hex(), hx(msg), bytes(bad).hex(), hx(ctx))
    check(rc == 1 and out == "fail", f"case {i}: we accept a corrupted Python signature")
    rc, out = run("verify", pkb.hex(), hx(msg + b"x"), psig.hex(), hx(ctx))
    check(rc == 1, f"case {i}: we accept Python's signature on another message")
    rc, out = run("verify", pkb.hex(), hx(msg), psig.hex(), hx(ctx + b"y"))
    check(rc == 1, f"case {i}: we accept Python's signature with another context")

print(f"mldsa65 crosscheck with OpenSSL via cryptography: {checks} checks, {fails} failures")
sys.exit(1 if fails else 0)
PY
