#!/usr/bin/env python3
"""Independent reference figures for gpu-probe, measured with PyTorch on one GPU.

Prints one JSON object: HBM copy bandwidth (x.copy_(y), bytes read + written per second, the probe's accounting),
matmul TFLOP/s in bf16/fp16/tf32/fp32 at the probe's sizes, and pinned host<->device bandwidth.
"""
import argparse
import json

import torch


def timed(fn, iters, warmup=3):
    for _ in range(warmup):
        fn()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) / 1000.0  # seconds


def copy_gbps(nbytes, iters):
    x = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    y = torch.full((nbytes,), 0x5A, dtype=torch.uint8, device="cuda")
    s = timed(lambda: x.copy_(y), iters)
    return 2 * nbytes * iters / s / 1e9


def matmul_tflops(n, dtype, target_s, tf32=False):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randint(-2, 3, (n, n), device="cuda").to(dtype)
    b = torch.randint(-2, 3, (n, n), device="cuda").to(dtype)
    one = timed(lambda: torch.matmul(a, b), 1)
    iters = max(3, min(1000, int(target_s / max(one, 1e-6))))
    s = timed(lambda: torch.matmul(a, b), iters)
    torch.backends.cuda.matmul.allow_tf32 = False
    return 2 * n ** 3 * iters / s / 1e12


def host_gbps(nbytes, iters, to_device):
    h = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True)
    d = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    fn = (lambda: d.copy_(h, non_blocking=True)) if to_device else (lambda: h.copy_(d, non_blocking=True))
    s = timed(fn, iters, warmup=1)
    return nbytes * iters / s / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", type=int, default=0)
    p.add_argument("--target-seconds", type=float, default=0.2)
    args = p.parse_args()
    torch.cuda.set_device(args.device)
    out = {
        "device": torch.cuda.get_device_name(args.device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "hbm_bandwidth": copy_gbps(1 << 30, 30),
        "gemm_bf16_throughput": matmul_tflops(8192, torch.bfloat16, args.target_seconds),
        "gemm_fp16_throughput": matmul_tflops(8192, torch.float16, args.target_seconds),
        "gemm_tf32_throughput": matmul_tflops(8192, torch.float32, args.target_seconds, tf32=True),
        "gemm_fp32_throughput": matmul_tflops(4096, torch.float32, args.target_seconds),
        "host_to_device_bandwidth": host_gbps(256 << 20, 8, True),
        "device_to_host_bandwidth": host_gbps(256 << 20, 8, False),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
