"""Render every explanation view to PNG, to look at them (``python bench/render_explain_views.py``).

Draws from ``kiosk.bench.explain.build_scene`` (a model trained on simulated
still / shake / circle recordings, one live circle explained) on the kiosk's
background at the official 7" panel's size, one file per view.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame

from kiosk.bench.explain import build_comparison, build_scene
from kiosk.ml.compare import comparison_pictures
from kiosk.ml.explain import LiveExplainer, importance_strength
from kiosk.ml.importance import global_importance
from kiosk.ui import explain_views as views
from kiosk.ui import theme
from kiosk.ui.text import TextCache


def render_all(out: Path, size: tuple[int, int] = (800, 480)) -> list[Path]:
    pygame.init()
    out.mkdir(parents=True, exist_ok=True)
    text = TextCache()
    scene = build_scene()
    live = scene.live
    names = scene.dataset.class_names
    importance = importance_strength(global_importance(scene.X, scene.y, names, scene.window))
    comparison = build_comparison()
    pictures = comparison_pictures(comparison, comparison.predict_samples(scene.live_samples[0]))
    picture = scene.explainer.picture.with_live(live.map_point)
    jobs = {
        "saliency": lambda s, r: views.draw_saliency_fingerprint(
            s, r, text, scene.live_fingerprint, live.strength, live.target_name
        ),
        "global_importance": lambda s, r: views.draw_global_importance(
            s, r, text, importance, names
        ),
        "similar": lambda s, r: views.draw_similar_recordings(s, r, text, live.similar),
        "averages": lambda s, r: views.draw_average_fingerprints(
            s, r, text, scene.explainer.averages, names
        ),
        "map": lambda s, r: views.draw_data_map(s, r, text, picture),
        "compare": lambda s, r: views.draw_comparison(s, r, text, pictures),
    }
    real = (
        Path(__file__).resolve().parents[2]
        / "shared/data/createai/shake-still-circle-data-samples-legacy.json"
    )
    if real.is_file():  # real recordings: the honest estimate makes mistakes to show
        from kiosk.store.createai_json import load_createai

        real_scene = build_scene(dataset=load_createai(real)[0])
        real_picture = real_scene.explainer.picture.with_live(real_scene.live.map_point)
        jobs["map_real_data"] = lambda s, r: views.draw_data_map(s, r, text, real_picture)
        tsne = LiveExplainer(
            real_scene.model,
            real_scene.X,
            real_scene.y,
            real_scene.fingerprints,
            predicted=real_scene.evaluation.predicted,
            map_method="tsne",
        )
        tsne_picture = tsne.picture.with_live(tsne.explain(real_scene.live_features[0]).map_point)
        jobs["map_tsne_real_data"] = lambda s, r: views.draw_data_map(s, r, text, tsne_picture)
        jobs["saliency_real_data"] = lambda s, r: views.draw_saliency_fingerprint(
            s,
            r,
            text,
            real_scene.live_fingerprint,
            real_scene.live.strength,
            real_scene.live.target_name,
        )
    written = []
    for name, draw in jobs.items():
        surface = pygame.Surface(size)
        surface.fill(theme.BACKGROUND)
        draw(surface, pygame.Rect(16, 16, size[0] - 32, size[1] - 32))
        path = out / f"explain_{name}.png"
        pygame.image.save(surface, str(path))
        written.append(path)
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/explain_views")
    for path in render_all(folder):
        print(path)
