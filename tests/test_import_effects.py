"""What ``import uniformer_mm`` changes outside its own classes is what its docstring says, and no more."""
import mmengine
import pytest
from mmengine.analysis import complexity_analysis

import uniformer_mm
from uniformer_mm import analysis


@pytest.fixture
def private_flop_table(monkeypatch):
    """A copy of mmengine's default FLOP table without our formula, in place of the real one."""
    table = dict(complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS)
    table.pop(analysis.SDPA_OPERATOR, None)
    monkeypatch.setattr(complexity_analysis, '_DEFAULT_SUPPORTED_FLOP_OPS', table)
    return table


def test_import_added_the_attention_formula_to_the_installed_mmengine():
    assert complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS[analysis.SDPA_OPERATOR] is analysis.sdpa_flop_jit


@pytest.mark.parametrize('version', ['0.9.1', '1.0.0'])
def test_an_mmengine_whose_table_was_not_read_is_left_alone(monkeypatch, private_flop_table, version):
    monkeypatch.setattr(mmengine, '__version__', version)
    before = dict(private_flop_table)
    assert analysis.register_attention_flops() is False
    assert private_flop_table == before


def test_a_formula_mmengine_has_is_kept(private_flop_table):
    def theirs(inputs, outputs):
        return 0

    private_flop_table[analysis.SDPA_OPERATOR] = theirs
    assert analysis.register_attention_flops() is False
    assert private_flop_table[analysis.SDPA_OPERATOR] is theirs


def test_the_package_docstring_names_every_change_to_other_libraries():
    doc = ' '.join(uniformer_mm.__doc__.split())
    for effect in ('MODELS', 'CheckpointLoader', 'restore_mmengine_loaders()', '_DEFAULT_SUPPORTED_FLOP_OPS',
                   'mmdeploy'):
        assert effect in doc, effect
