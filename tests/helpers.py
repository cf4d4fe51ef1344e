"""Helpers the tests share: the repository root and a command runner, official-layout state dicts fabricated from
tests/data/official_keys, parameter counts, a runner for exported files, a loader for scripts."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MIM = str(Path(PYTHON).parent / 'mim')  # the environment's mim, whatever PATH says
OFFICIAL_KEYS = ROOT / 'tests' / 'data' / 'official_keys'


def run(args: Sequence, cwd: Path = ROOT, env: Optional[Dict[str, str]] = None, timeout: float = 900) -> str:
    """Runs a command and returns what it printed, standard output then standard error (where OpenMMLab logs).

    Args:
        args: The command; paths and numbers are turned into strings.
        cwd: The working directory; default the repository root.
        env: Variables set on top of this process's environment.
        timeout: Seconds before the command is killed and the test fails.

    Raises:
        AssertionError: The command exited non-zero; the message holds the end of both outputs.
    """
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env={**os.environ, **env} if env else None,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (f'{" ".join(map(str, args))} exited {result.returncode}\n'
                                    f'{result.stdout[-3000:]}{result.stderr[-3000:]}')
    return result.stdout + result.stderr


def fabricate_official_state_dict(name: str, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Random tensors in the exact key/shape layout of an official checkpoint (tests/data/official_keys)."""
    layout = json.loads((OFFICIAL_KEYS / f'{name}.json').read_text())['keys']
    generator = torch.Generator().manual_seed(seed)
    state_dict = {}
    for key, shape in layout.items():
        if key.endswith('num_batches_tracked'):
            state_dict[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            state_dict[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state_dict[key] = torch.randn(shape, generator=generator) * 0.05
    return state_dict


def official_param_count(name: str) -> int:
    return json.loads((OFFICIAL_KEYS / f'{name}.json').read_text())['params']


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def randomize_(module: nn.Module, seed: int = 1) -> None:
    """Random weights and BatchNorm statistics, so that no layer is an identity by accident."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith('num_batches_tracked'):
                continue
            values = torch.rand(tensor.shape, generator=generator) + 0.5 if name.endswith('running_var') \
                else torch.randn(tensor.shape, generator=generator) * 0.1
            tensor.copy_(values)


def sharpen_attention_(module: nn.Module) -> nn.Module:
    """Scales every qkv projection by 6, so that random weights attend sharply: with near-uniform attention two of
    the light models' token scores can tie to within float rounding, and which token is pruned would then be
    decided by the last bit of the arithmetic."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith('attn.qkv.weight'):
                param.mul_(6)
    return module


def onnx_runner(path, runtime):
    """A function from an input array to the output arrays of an exported file (ONNX, or OpenVINO IR), in ONNX
    Runtime or OpenVINO (float32 precision hint: what was quantized stays int8)."""
    if runtime == 'openvino':
        import openvino
        compiled = openvino.Core().compile_model(str(path), 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
        return lambda inputs: list(compiled(inputs).values())
    import onnxruntime
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    return lambda inputs: session.run(None, {session.get_inputs()[0].name: inputs})


def load_script(path: Path) -> ModuleType:
    """A script of the repository (a tool, a demo, a .dev_scripts helper) as a module of this process, named after
    its file: its functions can be called without the seconds a subprocess spends importing the stack."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
