"""Randomly initialised diffusers pipelines with the real architectures, built without downloads.

Tests build ``size="tiny"`` pipelines and save them to a directory, so they are loaded through
the same code as real weights; ``bench/gpu_diffusion.py`` builds ``size="full"`` ones to time
the published architectures. The full-size configs below restate the published ``config.json``
files of each model (Z-Image-Turbo, SDXL-Turbo, SD-Turbo); only the values that differ from the
diffusers/transformers defaults are given.

Tokenizers are real ``CLIPTokenizer``/``Qwen2Tokenizer`` objects over a byte-level vocabulary
with no merges (every byte is one token): they tokenise any text and save like the real ones,
but count more tokens per word than the trained vocabularies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch

Architecture = Literal["sd-turbo", "sdxl-turbo", "z-image-turbo"]
Size = Literal["tiny", "full"]
ARCHITECTURES: tuple[Architecture, ...] = ("sd-turbo", "sdxl-turbo", "z-image-turbo")

_STARTOFTEXT, _ENDOFTEXT = "<|startoftext|>", "<|endoftext|>"
_IM_START, _IM_END = "<|im_start|>", "<|im_end|>"

#: A Qwen3-style chat template with the ``enable_thinking`` switch the Z-Image pipeline passes.
_QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for the bytes 0..255, in byte order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    symbols: dict[int, int] = {b: b for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = 256 + extra
            extra += 1
    return [chr(symbols[b]) for b in range(256)]


def clip_tokenizer(model_max_length: int = 77) -> Any:
    from transformers import CLIPTokenizer

    symbols = _byte_symbols()
    vocab = {s: i for i, s in enumerate([*symbols, *(s + "</w>" for s in symbols)])}
    vocab[_STARTOFTEXT] = len(vocab)
    vocab[_ENDOFTEXT] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=model_max_length)


def qwen_tokenizer(model_max_length: int = 32768) -> Any:
    from transformers import Qwen2Tokenizer

    vocab = {s: i for i, s in enumerate(_byte_symbols())}
    for token in (_ENDOFTEXT, _IM_START, _IM_END):
        vocab[token] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=[],
        additional_special_tokens=[_IM_START, _IM_END],
        model_max_length=model_max_length,
    )
    tokenizer.chat_template = _QWEN_CHAT_TEMPLATE
    return tokenizer


# Published architectures (full) and their tiny stand-ins. Keys follow the config.json files.

_SDXL_UNET_FULL: dict[str, Any] = {
    "sample_size": 64,
    "block_out_channels": [320, 640, 1280],
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "attention_head_dim": [5, 10, 20],
    "transformer_layers_per_block": [1, 2, 10],
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
_SDXL_UNET_TINY: dict[str, Any] = {
    "sample_size": 16,
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "attention_head_dim": [2, 4],
    "transformer_layers_per_block": [1, 2],
    "cross_attention_dim": 64,  # text_encoder + text_encoder_2 hidden sizes
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 80,  # 6 * 8 + the pooled projection (32)
}
_SD2_UNET_FULL: dict[str, Any] = {
    "sample_size": 64,
    "block_out_channels": [320, 640, 1280, 1280],
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    "attention_head_dim": [5, 10, 20, 20],
    "cross_attention_dim": 1024,
    "use_linear_projection": True,
}
_SD2_UNET_TINY: dict[str, Any] = {
    "sample_size": 16,
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "attention_head_dim": [2, 4],
    "cross_attention_dim": 32,
    "use_linear_projection": True,
}
_SD_VAE_FULL: dict[str, Any] = {
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 768,
}
_VAE_TINY: dict[str, Any] = {  # four levels like the real ones: the same 8x downsampling
    "block_out_channels": [32, 32, 32, 32],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "layers_per_block": 1,
    "latent_channels": 4,
    "sample_size": 32,
}
_FLUX_VAE_FULL: dict[str, Any] = {
    **_SD_VAE_FULL,
    "latent_channels": 16,
    "sample_size": 1024,
    "scaling_factor": 0.3611,
    "shift_factor": 0.1159,
    "use_quant_conv": False,
    "use_post_quant_conv": False,
}
_FLUX_VAE_TINY: dict[str, Any] = {
    **_VAE_TINY,
    "scaling_factor": 0.3611,
    "shift_factor": 0.1159,
    "use_quant_conv": False,
    "use_post_quant_conv": False,
}
_CLIP_L_FULL: dict[str, Any] = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
}
_CLIP_BIGG_FULL: dict[str, Any] = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "projection_dim": 1280,
    "hidden_act": "gelu",
}
_CLIP_H_FULL: dict[str, Any] = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_attention_heads": 16,
    "num_hidden_layers": 23,
    "projection_dim": 512,
    "hidden_act": "gelu",
}
_CLIP_TINY: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "projection_dim": 32,
    "hidden_act": "gelu",
}
_ZIMAGE_TRANSFORMER_FULL: dict[str, Any] = {
    "all_patch_size": [2],
    "all_f_patch_size": [1],
    "in_channels": 16,
    "dim": 3840,
    "n_layers": 30,
    "n_refiner_layers": 2,
    "n_heads": 30,
    "n_kv_heads": 30,
    "norm_eps": 1e-5,
    "qk_norm": True,
    "cap_feat_dim": 2560,
    "rope_theta": 256.0,
    "t_scale": 1000.0,
    "axes_dims": [32, 48, 48],
    "axes_lens": [1536, 512, 512],
}
_ZIMAGE_TRANSFORMER_TINY: dict[str, Any] = {
    **_ZIMAGE_TRANSFORMER_FULL,
    "in_channels": 4,
    "dim": 32,
    "n_layers": 2,
    "n_refiner_layers": 1,
    "n_heads": 2,
    "n_kv_heads": 2,
    "cap_feat_dim": 32,
    "axes_dims": [4, 6, 6],
}
_QWEN3_4B_FULL: dict[str, Any] = {
    "vocab_size": 151936,
    "hidden_size": 2560,
    "intermediate_size": 9728,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": True,
}
_QWEN3_TINY: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 16,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
}


def _diffusers() -> Any:
    """``diffusers``, typed loosely: its configurable constructors carry no annotations."""
    return importlib.import_module("diffusers")


def _clip_text(config: dict[str, Any], tokenizer: Any, *, projection: bool, full: bool) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    cfg = CLIPTextConfig(
        **config,
        vocab_size=49408 if full else len(tokenizer),
        max_position_embeddings=77,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return CLIPTextModelWithProjection(cfg) if projection else CLIPTextModel(cfg)


class _Builder:
    """Builds modules directly on ``device`` and casts each to ``dtype`` as soon as it exists
    (so a full-size pipeline never holds more than one module in float32). Schedulers and
    tokenizers stay outside: they keep numpy/CPU state."""

    def __init__(self, full: bool, device: str, dtype: torch.dtype | None) -> None:
        self.full, self.device, self.dtype = full, device, dtype

    def __call__(self, factory: Callable[[], Any]) -> Any:
        import torch

        with torch.device(self.device):
            module = factory()
        if self.dtype is not None:
            # nn.Module.to: diffusers' override only adds a log line about fp32-kept modules,
            # of which these architectures have none.
            torch.nn.Module.to(module, dtype=self.dtype)
        return module


def _sd_turbo(b: _Builder) -> Any:
    d = _diffusers()
    tokenizer = clip_tokenizer()
    return d.StableDiffusionPipeline(
        vae=b(
            lambda: d.AutoencoderKL(
                **(_SD_VAE_FULL if b.full else _VAE_TINY), scaling_factor=0.18215
            )
        ),
        text_encoder=b(
            lambda: _clip_text(
                _CLIP_H_FULL if b.full else _CLIP_TINY, tokenizer, projection=False, full=b.full
            )
        ),
        tokenizer=tokenizer,
        unet=b(lambda: d.UNet2DConditionModel(**(_SD2_UNET_FULL if b.full else _SD2_UNET_TINY))),
        scheduler=d.EulerDiscreteScheduler(
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
            steps_offset=1,
            timestep_spacing="trailing",
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def _sdxl_turbo(b: _Builder) -> Any:
    d = _diffusers()
    tokenizer = clip_tokenizer()
    vae = {**(_SD_VAE_FULL if b.full else _VAE_TINY), "sample_size": 1024 if b.full else 32}
    return d.StableDiffusionXLPipeline(
        vae=b(lambda: d.AutoencoderKL(**vae, scaling_factor=0.13025)),
        text_encoder=b(
            lambda: _clip_text(
                _CLIP_L_FULL if b.full else _CLIP_TINY, tokenizer, projection=False, full=b.full
            )
        ),
        text_encoder_2=b(
            lambda: _clip_text(
                _CLIP_BIGG_FULL if b.full else _CLIP_TINY, tokenizer, projection=True, full=b.full
            )
        ),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=b(lambda: d.UNet2DConditionModel(**(_SDXL_UNET_FULL if b.full else _SDXL_UNET_TINY))),
        scheduler=d.EulerAncestralDiscreteScheduler(
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
            steps_offset=1,
            timestep_spacing="trailing",
        ),
        add_watermarker=False,
    )


def _z_image_turbo(b: _Builder) -> Any:
    d = _diffusers()
    from transformers import Qwen3Config, Qwen3Model

    tokenizer = qwen_tokenizer()
    text = Qwen3Config(
        **(_QWEN3_4B_FULL if b.full else {**_QWEN3_TINY, "vocab_size": len(tokenizer)})
    )
    return d.ZImagePipeline(
        scheduler=d.FlowMatchEulerDiscreteScheduler(
            num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=False
        ),
        vae=b(lambda: d.AutoencoderKL(**(_FLUX_VAE_FULL if b.full else _FLUX_VAE_TINY))),
        text_encoder=b(lambda: Qwen3Model(text)),
        tokenizer=tokenizer,
        transformer=b(
            lambda: d.ZImageTransformer2DModel(
                **(_ZIMAGE_TRANSFORMER_FULL if b.full else _ZIMAGE_TRANSFORMER_TINY)
            )
        ),
    )


def build_pipeline(
    architecture: Architecture,
    *,
    size: Size = "tiny",
    seed: int = 0,
    device: str = "cpu",
    dtype: torch.dtype | None = None,
) -> Any:
    """A randomly initialised pipeline of ``architecture``; weights depend only on ``seed``.

    Modules are created on ``device`` (initialising full-size models on a GPU is fast) and cast
    to ``dtype`` one by one.
    """
    import torch

    builders = {"sd-turbo": _sd_turbo, "sdxl-turbo": _sdxl_turbo, "z-image-turbo": _z_image_turbo}
    torch.manual_seed(seed)
    pipe = builders[architecture](_Builder(size == "full", device, dtype))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_pipeline(
    architecture: Architecture, directory: Path, *, size: Size = "tiny", seed: int = 0
) -> Path:
    """Build a pipeline and ``save_pretrained`` it as safetensors into ``directory``."""
    pipe = build_pipeline(architecture, size=size, seed=seed)
    directory.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(directory, safe_serialization=True)
    return directory
