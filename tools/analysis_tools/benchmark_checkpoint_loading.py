"""Loading a large checkpoint: uniformer_mm's reader beside ``torch.load(weights_only=True)``, in one run.

Writes a checkpoint of float32 tensors (default 400 MB, a state dict plus an optimizer-like state), then loads it
``--repeat`` times with each loader, alternating, each load in a fresh process (so memory is measured from the same
start), the file in the page cache. Prints the median wall time of the load itself (imports excluded) and the peak
resident-memory growth during it, as a multiple of the file size.

Example:
    python tools/analysis_tools/benchmark_checkpoint_loading.py --megabytes 400 --repeat 5
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

import torch

LOAD = r'''
import json, sys, time
import torch
import uniformer_mm  # noqa: F401
from uniformer_mm.checkpoint_safety import load_checkpoint_file


def status(field):
    with open('/proc/self/status') as file:
        return next(int(line.split()[1]) * 1024 for line in file if line.startswith(field + ':'))


loader, path = sys.argv[1:]
load = {'torch.load(weights_only=True)': lambda: torch.load(path, weights_only=True, map_location='cpu'),
        'uniformer_mm reader': lambda: load_checkpoint_file(path, map_location='cpu')}[loader]
with open('/proc/self/clear_refs', 'w') as file:
    file.write('5')  # resets the peak resident size to the current one
before, started = status('VmRSS'), time.perf_counter()
checkpoint = load()
seconds = time.perf_counter() - started
print(json.dumps(dict(seconds=seconds, growth=status('VmHWM') - before)))
'''
LOADERS = ('torch.load(weights_only=True)', 'uniformer_mm reader')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--megabytes', type=int, default=400, help='checkpoint size (default 400)')
    parser.add_argument('--repeat', type=int, default=5, help='loads per loader (default 5)')
    return parser.parse_args()


def cpu_name() -> str:
    with open('/proc/cpuinfo') as file:
        name = next((line.split(':', 1)[1].strip() for line in file if line.startswith('model name')),
                    platform.processor())
    return f'{name}, {os.cpu_count()} cores'


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, 'big.pth')
        count = args.megabytes * (1 << 20) // 4 // 2 // (1 << 20)
        weights = {f'layer{i}.weight': torch.randn(1024, 1024) for i in range(count)}
        torch.save(dict(state_dict=weights, optimizer=dict(
            state={i: dict(step=torch.tensor(10.), exp_avg=torch.randn(1024, 1024)) for i in range(count)})), path)
        size = os.path.getsize(path)
        with open(path, 'rb') as file:  # into the page cache
            while file.read(1 << 24):
                pass
        results = {loader: [] for loader in LOADERS}
        for _ in range(args.repeat):
            for loader in LOADERS:
                output = subprocess.run([sys.executable, '-c', LOAD, loader, path], capture_output=True, text=True,
                                        check=True).stdout
                results[loader].append(json.loads(output.strip().splitlines()[-1]))
    print(f'checkpoint: {size / 1e6:.0f} MB ({2 * count} float32 tensors of 1024x1024 and {count} scalars), '
          f'{cpu_name()}, torch {torch.__version__}, median of {args.repeat} loads, each in a fresh process')
    print('| loader | load time (s) | vs torch.load | peak memory growth (MB) | growth / file size |')
    print('|---|---|---|---|---|')
    reference = statistics.median(run['seconds'] for run in results[LOADERS[0]])
    for loader in LOADERS:
        seconds = statistics.median(run['seconds'] for run in results[loader])
        growth = statistics.median(run['growth'] for run in results[loader])
        print(f'| {loader} | {seconds:.3f} | {seconds / reference:.2f}x | {growth / 1e6:.0f} | '
              f'{growth / size:.2f} |')


if __name__ == '__main__':
    main()
