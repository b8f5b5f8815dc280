"""The DCGAN profile's attribution of HLO ops to parts and op kinds (benchmarks/profile_dcgan.py).

No test here times anything: they check that the script sorts ops where it claims.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import profile_dcgan  # noqa: E402

STEP = "jit(train_chunk)/while/body/closed_call"
G = f"{STEP}/jvp(DCGANGenerator)"
G_T = f"{STEP}/transpose(jvp(DCGANGenerator))"
D = "jvp(DCGANDiscriminator)/_Encoder_0"


@pytest.mark.parametrize(
    "op_name, part",
    [
        (f"{G}/Dense_0/dot_general", "G forward: dense layer"),
        (f"{G}/Upsample_0/slice", "G forward: transposed conv 1 (7x7 -> 14x14)"),
        (f"{G}/Upsample_1/jit(_pad)/pad", "G forward: transposed conv 2 (14x14 -> image)"),
        (f"{G}/LayerNorm_0/rsqrt", "G forward: norm + activations"),
        (f"{G}/jit(relu)/max", "G forward: norm + activations"),
        (f"{G}/tanh", "G forward: norm + activations"),
        (f"{G_T}/Dense_0/dot_general", "G backward: dense layer"),
        (f"{G_T}/Upsample_1/dot_general", "G backward: transposed conv 2 (14x14 -> image)"),
        (f"{G_T}/LayerNorm_1/mul", "G backward: norm + activations"),
        (f"{STEP}/jvp(d_update)/{D}/Conv_1/dot_general", "D phase: D loss fwd + grad"),
        (f"{STEP}/jvp(d_update)/transpose({D})/Conv_0/concatenate", "D phase: D loss fwd + grad"),
        (f"{STEP}/d_update/d_opt/mul", "D phase: Adam"),
        (f"{STEP}/{D}/Conv_1/dot_general", "G loss through D (fwd + bwd)"),
        (f"{STEP}/transpose({D})/Dense_0/dot_general", "G loss through D (fwd + bwd)"),
        (f"{STEP}/g_opt/add", "G Adam"),
        (f"{STEP}/ema/mul", "G weights EMA"),
        (f"{STEP}/data/jit(_randint)/shift_right_logical", "real batch (image gather)"),
        (f"{STEP}/data/gather", "real batch (image gather)"),
        (f"{STEP}/jit(_normal)/jit(_normal_real)/erf_inv", "latents z (threefry normal)"),
        (f"{STEP}/diagnostics/jit(norm)/reduce_sum", "diagnostics (grad norms, update cosines)"),
        (f"{STEP}/freeze/reduce_and", "divergence check (isfinite, select)"),
        ("jit(train_chunk)/while", profile_dcgan.BOOKKEEPING),
    ],
)
def test_step_ops_are_attributed_to_their_part(op_name, part):
    assert profile_dcgan.part_of(op_name) == part
    assert part in profile_dcgan.PARTS


@pytest.mark.parametrize(
    "op_name, part",
    [
        ("jit(evaluate)/jit(_normal)/erf_inv", "latents z"),
        ("jit(evaluate)/DCGANGenerator/Upsample_0/dot_general", "G samples"),
        ("jit(evaluate)/while/body/Classifier/Conv_0/dot_general", "classifier features"),
        ("jit(evaluate)/knn_radii/while/body/argmin", profile_dcgan.EVAL_PARTS[4]),
        ("jit(evaluate)/ball_counts/while/body/dot_general", profile_dcgan.EVAL_PARTS[5]),
        ("jit(evaluate)/fd/svd", "FD"),
        ("jit(evaluate)/kid/while/body/dot_general", "KID"),
        ("jit(evaluate)/inception_score/log", "IS analogue"),
        ("jit(evaluate)/sub", "other"),
    ],
)
def test_eval_ops_are_attributed_to_their_part(op_name, part):
    assert profile_dcgan.eval_part_of(op_name) == part
    assert part in profile_dcgan.EVAL_PARTS


def test_op_kinds_look_inside_fusions():
    hlo = "\n".join(
        [
            "%fused_dot (p0: f32[4,4], p1: f32[4,4]) -> f32[4,4] {",
            "  %p0 = f32[4,4]{1,0} parameter(0)",
            "  %p1 = f32[4,4]{1,0} parameter(1)",
            "  ROOT %dot.1 = f32[4,4]{1,0} dot(%p0, %p1), lhs_contracting_dims={1}",
            "}",
            "%fused_add (p0: f32[4,4]) -> f32[4,4] {",
            "  %p0 = f32[4,4]{1,0} parameter(0)",
            "  ROOT %add.1 = f32[4,4]{1,0} add(%p0, %p0)",
            "}",
            "ENTRY %main (a: f32[4,4]) -> f32[4,4] {",
            "  %a = f32[4,4]{1,0} parameter(0)",
            "  %ynn_fusion.1 = f32[4,4]{1,0} fusion(%a, %a), kind=kCustom, calls=%fused_dot",
            "  %loop_fusion.2 = f32[4,4]{1,0} fusion(%ynn_fusion.1), kind=kLoop, calls=%fused_add",
            "  %dot.3 = f32[4,4]{1,0} dot(%a, %loop_fusion.2), lhs_contracting_dims={1}",
            "  %copy.4 = f32[4,4]{0,1} copy(%dot.3)",
            "  ROOT %transpose.5 = f32[4,4]{1,0} transpose(%copy.4), dimensions={1,0}",
            "}",
        ]
    )
    kinds = profile_dcgan.instruction_kinds(hlo)
    assert kinds["ynn_fusion.1"] == "fusion with a dot"
    assert kinds["loop_fusion.2"] == "fusion"
    assert kinds["dot.3"] == "dot"
    assert kinds["copy.4"] == "copy"
    assert kinds["transpose.5"] == "other"
    assert set(kinds.values()) <= set(profile_dcgan.KINDS)
