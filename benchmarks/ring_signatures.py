"""Linkable ring signatures (bLSAG, node/privacy/ring.py): sign and verify time by ring size,
next to one plain ed25519 signature (PyNaCl) measured in the same run.

Usage: python benchmarks/ring_signatures.py [--sizes 1,2,6,16,64] [--repeat 50]
"""

from __future__ import annotations

import argparse

from nacl.signing import SigningKey
from timing import best

from node.privacy import ring as blsag

MESSAGE = "匿名反馈：锦江区 2023 年用电量缺失".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2,6,16,64")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    key = SigningKey.generate()
    plain_sign, signed = best(lambda: key.sign(MESSAGE), args.repeat)
    plain_verify, _ = best(lambda: key.verify_key.verify(signed), args.repeat)
    print(
        f"baseline: one ed25519 signature, sign {plain_sign * 1e3:.3f} ms, "
        f"verify {plain_verify * 1e3:.3f} ms (best of {args.repeat})"
    )
    print(
        f"{'ring':>5} {'sign ms':>9} {'verify ms':>10} {'sign / ed25519':>15} "
        f"{'verify / ed25519':>17} {'bytes':>6}"
    )
    for n in sizes:
        members = [blsag.keypair() for _ in range(n)]
        ring = [pk for _, pk in members]
        secret = members[n // 2][0]
        t_sign, sig = best(lambda r=ring, k=secret: blsag.sign(MESSAGE, r, k), args.repeat)
        t_verify, _ = best(lambda r=ring, s=sig: blsag.verify(MESSAGE, r, s), args.repeat)
        print(
            f"{n:>5} {t_sign * 1e3:>9.3f} {t_verify * 1e3:>10.3f} "
            f"{t_sign / plain_sign:>14.0f}x {t_verify / plain_verify:>16.0f}x "
            f"{len(sig.to_bytes()):>6}"
        )


if __name__ == "__main__":
    main()
