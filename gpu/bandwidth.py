#!/usr/bin/env python3
"""Device memory bandwidth of GPU 0 from a copy kernel (PyTorch), as one JSON object on stdout.

A copy of N bytes reads N and writes N: bandwidth = 2 N / time. The best of several timed
copies of a 1 GiB buffer (CUDA events, after warmups) is reported, with every sample. Exits 2
with {"error": ...} when PyTorch or a CUDA device is missing.
"""
import json
import sys


def main() -> int:
    try:
        import torch
    except Exception as error:  # noqa: BLE001 - any import failure means "no PyTorch"
        print(json.dumps({"error": f"no PyTorch: {error}"}))
        return 2
    if not torch.cuda.is_available():
        print(json.dumps({"error": "PyTorch sees no CUDA device"}))
        return 2
    nbytes = 1 << 30
    src = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    src.fill_(1)
    for _ in range(3):
        dst.copy_(src)
    torch.cuda.synchronize()
    samples = []
    for _ in range(10):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        dst.copy_(src)
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / 1000.0)
    best = min(samples)
    print(json.dumps({
        "method": "torch copy_ of a 1 GiB uint8 tensor on cuda:0, 2 x bytes / time, best of 10",
        "device_name": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "bytes_moved": 2 * nbytes,
        "seconds": samples,
        "bytes_per_s": 2 * nbytes / best,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
