#!/usr/bin/env python3
"""pqc_reference.py - the reference speeds for bench/pqc.sh: ML-KEM-768 and
ML-DSA-65 with Python `cryptography` (OpenSSL 3.5+/4.0 underneath).

Prints "REF <op> <ops_per_s>" lines:
  mlkem768_keygen   MLKEM768PrivateKey.from_seed_bytes(d||z)  (our keygen also takes the seed)
  mlkem768_encaps   public key object .encapsulate()   (OpenSSL keeps the parsed key and its matrix)
  mlkem768_encaps_from_bytes  from_public_bytes(ek).encapsulate()  (parse + encaps, like our API)
  mlkem768_decaps   private key object .decapsulate(ct)
  mldsa65_keygen    MLDSA65PrivateKey.from_seed_bytes(xi)
  mldsa65_sign      private key object .sign(64-byte message)
  mldsa65_verify    public key object .verify(sig, 64-byte message)
Times are process CPU time (time.process_time, like bench_mlkem's
CLOCK_PROCESS_CPUTIME_ID), best of five rounds: the machine is shared.
Python call overhead (~0.3-1 us per call) is included, which slightly favours
our C numbers; the OpenSSL key objects are reused, which favours OpenSSL.

Usage: pqc_reference.py [seconds_per_op]   (default 1.0)
Exit 77 when cryptography or its ML-KEM/ML-DSA support is missing.
"""
import os
import sys
import time

try:
    from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem
except ImportError:
    print("SKIP: python3 'cryptography' with ML-KEM/ML-DSA is not available", file=sys.stderr)
    sys.exit(77)


def measure_once(fn, secs):
    n = 0
    batch = 8
    t0 = time.process_time()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        t = time.process_time() - t0
        if t >= secs:
            return n / t
        if t < secs / 8:
            batch *= 2


def measure(fn, secs):
    """Best of five rounds of secs/5 each (the machine is shared; load only slows a round)."""
    return max(measure_once(fn, secs / 5) for _ in range(5))


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    try:
        seed = os.urandom(64)
        sk = mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
    except Exception as e:  # noqa: BLE001 - an OpenSSL without ML-KEM raises UnsupportedAlgorithm
        print(f"SKIP: ML-KEM-768 unavailable: {e}", file=sys.stderr)
        sys.exit(77)
    pk = sk.public_key()
    ek = pk.public_bytes_raw()
    _, ct = pk.encapsulate()
    print(f"REF mlkem768_keygen {measure(lambda: mlkem.MLKEM768PrivateKey.from_seed_bytes(seed), secs):.0f}")
    print(f"REF mlkem768_encaps {measure(pk.encapsulate, secs):.0f}")
    print(f"REF mlkem768_encaps_from_bytes "
          f"{measure(lambda: mlkem.MLKEM768PublicKey.from_public_bytes(ek).encapsulate(), secs):.0f}")
    print(f"REF mlkem768_decaps {measure(lambda: sk.decapsulate(ct), secs):.0f}")

    xi = os.urandom(32)
    dsk = mldsa.MLDSA65PrivateKey.from_seed_bytes(xi)
    dpk = dsk.public_key()
    msg = bytes(range(64))
    sig = dsk.sign(msg)
    print(f"REF mldsa65_keygen {measure(lambda: mldsa.MLDSA65PrivateKey.from_seed_bytes(xi), secs):.0f}")
    print(f"REF mldsa65_sign {measure(lambda: dsk.sign(msg), secs):.0f}")
    print(f"REF mldsa65_verify {measure(lambda: dpk.verify(sig, msg), secs):.0f}")


if __name__ == "__main__":
    main()
