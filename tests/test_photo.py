"""Photos: colours seen in a picture, a photo finding its product, captions and follow-ups refining it,
every kind of unusable or unusual image file, gear that gets a colour from its photo, and CLIP."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from adapters.cli import new_bot
from adapters.config import Config
from bot.messages import Incoming
from bot.service import BotService
from recsys.catalogue.items import DEMO_CATALOGUE, Item
from recsys.encoders.images import load_image_file
from recsys.photo.colors import COLOR_NAMES, color_features, dominant_colors, visual_color
from recsys.store.chroma import ItemStore
from recsys.store.filters import VISUAL_COLOR, Filters

from .conftest import RULES, SHARED_DATA

IMAGES = DEMO_CATALOGUE.parent / "images"
LUMA = SHARED_DATA / "luma"
needs_luma = pytest.mark.skipif(
    not (LUMA / "catalog.jsonl").is_file(), reason=f"shared Luma photos not found at {LUMA} (see ../shared/data/README.md)"
)


def shirt_on_white(color: tuple[int, int, int], size: tuple[int, int] = (300, 400)) -> Image.Image:
    """A studio-style product shot: a T-shirt shape in `color` on white, with a skin-toned head and arms."""
    img = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(img)
    skin = (224, 172, 140)
    d.ellipse((120, 20, 180, 90), fill=skin)  # head
    d.rectangle((40, 130, 70, 260), fill=skin)  # arms
    d.rectangle((230, 130, 260, 260), fill=skin)
    d.polygon([(80, 100), (220, 100), (260, 150), (225, 170), (220, 330), (80, 330), (75, 170), (40, 150)], fill=color)
    return img


def jpeg(img: Image.Image, quality: int = 90, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# -- colours -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rgb", "name"),
    [((200, 30, 35), "Red"), ((30, 60, 170), "Blue"), ((40, 140, 60), "Green"), ((20, 20, 22), "Black"), ((240, 200, 30), "Yellow")],
)
def test_the_garment_colour_is_named_not_the_backdrop_or_skin(rgb: tuple[int, int, int], name: str) -> None:
    shot = shirt_on_white(rgb)
    top = dominant_colors(shot)
    assert top[0][0] == name and top[0][1] > 0.8  # the white studio and the skin are left out
    assert visual_color(color_features(shot)) == name


def test_a_white_shirt_on_white_is_still_white() -> None:
    assert dominant_colors(shirt_on_white((236, 236, 238)))[0][0] in {"White", "Gray"}


def test_colours_of_real_catalogue_photos_match_the_catalogue() -> None:
    items = [json.loads(line) for line in DEMO_CATALOGUE.read_text().splitlines()]
    coloured = [i for i in items if i.get("color") and i.get("image")][::4]
    named = [i["color"] in [c for c, _ in dominant_colors(load_image_file(str(DEMO_CATALOGUE.parent / i["image"])))] for i in coloured]
    assert len(named) > 90 and np.mean(named) > 0.7
    assert {n for n in COLOR_NAMES} >= {i["color"] for i in coloured}


# -- a photo finds its product ---------------------------------------------------------------------------
@needs_luma
async def test_another_view_of_a_catalogue_item_finds_its_product(service: BotService) -> None:
    found = 0
    cases = [
        ("mh01-gray_back.jpg", "MH01"),
        ("mh04-green_alt1.jpg", "MH04"),
        ("mj12-blue_back.jpg", "MJ12"),
        ("mb03-black-0_alt1.jpg", "24-MB03"),
    ]
    for name, product in cases:
        path = LUMA / "images" / name
        if not path.is_file():
            continue
        reply = await service.handle(Incoming(user_id=f"v-{name}", photos=[path.read_bytes()]))
        assert reply.error is None and reply.items
        found += any(i.id == product or i.id.startswith(product + "-") for i in reply.items)
    assert found >= 3


async def test_a_dim_tilted_phone_snap_finds_the_exact_variant(service: BotService) -> None:
    original = Image.open(IMAGES / "mh02-red_main.jpg").convert("RGB")
    snap = original.crop((20, 20, original.width - 20, original.height - 20)).rotate(8, fillcolor=(255, 255, 255))
    snap = Image.eval(snap, lambda v: int(v * 0.8))
    reply = await service.handle(Incoming(user_id="snap", photos=[jpeg(snap)]))
    assert reply.items and reply.items[0].id == "MH02-Red"
    assert "red" in reply.items[0].reason.lower()  # the reason names the colour seen in the photo


async def test_a_generated_red_shirt_finds_red_tops(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="gen", photos=[jpeg(shirt_on_white((190, 25, 30)))]))
    assert reply.error is None and reply.items
    assert sum(i.color == "Red" for i in reply.items) >= len(reply.items) - 1


async def test_a_caption_and_a_follow_up_refine_the_photo_search(service: BotService) -> None:
    photo = (IMAGES / "mh01-gray_main.jpg").read_bytes()  # a $52 hoodie
    under = await service.handle(Incoming(user_id="r1", photos=[photo], text="under $50"))
    assert under.items and all(i.price <= 50 for i in under.items)
    women = await service.handle(Incoming(user_id="r1", text="for women"))
    assert women.items and all(any(c.startswith("Women") for c in i.categories) for i in women.items)
    assert all(i.price <= 50 for i in women.items)  # the earlier constraint still holds


# -- unusable or unusual files ---------------------------------------------------------------------------
def _animated_gif() -> bytes:
    frames = [shirt_on_white((30, 60, 170)), shirt_on_white((200, 30, 35))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def _exif_rotated(path: Path) -> bytes:
    """The photo stored on its side with an EXIF tag saying how to turn it upright, as phones do."""
    img = Image.open(path).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    return jpeg(img, exif=exif.tobytes())


async def test_bad_images_get_a_clear_reply(service: BotService) -> None:
    original = (IMAGES / "mh05-white_main.jpg").read_bytes()
    cases = {
        "zero bytes": b"",
        "truncated JPEG": original[: len(original) // 2],
        "not an image": b"Hello, this is a text file named photo.jpg\n" * 20,
        "60 megapixels": png(Image.new("L", (10_000, 6_000), 255)),
        "decompression bomb": png(Image.new("1", (24_000, 24_000), 0)),
    }
    for label, data in cases.items():
        reply = await service.handle(Incoming(user_id="bad", photos=[data]))
        assert reply.error == "bad_image", label
        assert reply.text and not reply.items and "wrong on my side" not in reply.text, label


async def test_pictures_that_cannot_show_a_product_are_answered_as_such(service: BotService) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    cases = {
        "noise": (jpeg(Image.fromarray(noise)), "random noise"),
        "all white": (jpeg(Image.new("RGB", (640, 480), (255, 255, 255))), "flat colour"),
        "all black": (png(Image.new("RGB", (300, 300), 0)), "flat colour"),
        "1x1": (png(Image.new("RGB", (1, 1), (200, 30, 30))), "1×1 pixels"),
    }
    for label, (data, said) in cases.items():
        reply = await service.handle(Incoming(user_id="np", photos=[data]))
        assert reply.error == "bad_image" and not reply.items and said in reply.text, label
    zh = await service.handle(Incoming(user_id="np-zh", photos=[cases["noise"][0]], language="zh"))
    assert "噪点" in zh.text and not zh.items
    snap = Image.open(IMAGES / "mh01-gray_main.jpg").convert("RGB").resize((96, 96))  # small and compressed, still a photo
    assert (await service.handle(Incoming(user_id="np", photos=[jpeg(snap, quality=30)]))).items


async def test_unusual_but_valid_images_are_understood(service: BotService) -> None:
    gray = IMAGES / "mh01-gray_main.jpg"
    rgba = Image.open(gray).convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 255))
    cmyk = jpeg(Image.open(gray).convert("CMYK"))
    for label, data, expected in [
        ("animated GIF", _animated_gif(), None),
        ("PNG with alpha", png(rgba), "MH01-Gray"),
        ("CMYK JPEG", cmyk, "MH01-Gray"),
        ("EXIF-rotated", _exif_rotated(gray), "MH01-Gray"),
    ]:
        reply = await service.handle(Incoming(user_id=f"ok-{label}", photos=[data]))
        assert reply.error is None and reply.items, label
        if expected:
            assert reply.items[0].id == expected, label


async def test_the_first_frame_of_an_animated_gif_is_the_photo(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="gif", photos=[_animated_gif()]))  # blue first, red second
    assert "blue" in reply.items[0].reason.lower()


# -- gear gets a colour from its photo ---------------------------------------------------------------------
def test_a_colour_filter_matches_the_visual_colour_only_when_the_catalogue_has_none() -> None:
    bag = Item("B1", "Bag", 30.0, categories=("Gear/Bags",), attributes={VISUAL_COLOR: "Black"})
    tee = Item("T1", "Tee", 20.0, color="Blue", categories=("Men/Tops/Tees",), attributes={VISUAL_COLOR: "Black"})
    assert Filters(colors=("black",)).matches(bag) and not Filters(exclude_colors=("Black",)).matches(bag)
    assert not Filters(colors=("black",)).matches(tee) and Filters(colors=("blue",)).matches(tee)


def test_the_store_and_filters_agree_on_visual_colours(tmp_path: Path) -> None:
    store = ItemStore(tmp_path / "chroma")
    items = [
        Item("B1", "Backpack", 30.0, categories=("Gear/Bags",)),
        Item("B2", "Duffle", 40.0, categories=("Gear/Bags",)),
        Item("T1", "Tee", 20.0, color="Blue", categories=("Men/Tops/Tees",)),
    ]
    vectors = np.eye(3, 8, dtype=np.float32)
    store.upsert(items, vectors, "test", visual_colors={"B1": "Black", "B2": "Blue", "T1": "Black"})
    for filters in (Filters(colors=("Black",)), Filters(colors=("Blue",)), Filters(exclude_colors=("Blue",))):
        found = {h.item.id for h in store.search_text(vectors[0], filters, 10)}
        assert found == {i.id for i in store.all_items().values() if filters.matches(i)}, filters
    assert store.get("B1").color is None  # the catalogue's colour is kept as it was
    assert {h.item.id for h in store.search_text(vectors[0], Filters(colors=("Black",)), 10)} == {"B1"}


async def test_a_black_backpack_can_be_found_by_words(service: BotService) -> None:
    gear = [i for i in service.recommender.store.all_items().values() if i.color is None and i.image]
    assert gear and all(i.attributes.get(VISUAL_COLOR) in COLOR_NAMES for i in gear)
    reply = await service.handle(Incoming(user_id="bp", text="a black backpack"))
    assert reply.items and all(i.color is None and "Bags" in " ".join(i.categories) for i in reply.items)
    store = service.recommender.store
    assert all(store.get(i.id).attributes[VISUAL_COLOR] == "Black" for i in reply.items)


# -- CLIP, on a tiny randomly initialised model built here -------------------------------------------------
def _tiny_clip(folder: Path) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "<unk>": 2}
    for ch in letters:
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token="<unk>")
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}), tokenizer=tokenizer
    )
    config = CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 32, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1},
        vision_config={"image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                       "num_attention_heads": 2},
        projection_dim=16,
    )  # fmt: skip
    CLIPModel(config).save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


def _small_catalogue(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n, (name, color, rgb) in enumerate(
        [("Red Tee", "Red", (200, 30, 35)), ("Blue Tee", "Blue", (30, 60, 170)), ("Green Tee", "Green", (40, 140, 60))]
    ):
        shirt_on_white(rgb).save(folder / f"s{n}.jpg")
        rows.append({"id": f"T{n}", "name": name, "color": color, "price": 20 + n, "categories": ["Men/Tops/Tees"], "image": f"s{n}.jpg"})
    rows.append({"id": "BAG", "name": "Gym Bag", "price": 35, "categories": ["Gear/Bags"], "image": "s1.jpg"})
    path = folder / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_the_clip_encoder_embeds_images_and_text_in_one_space(tmp_path: Path) -> None:
    from recsys.encoders.image import ClipImageEncoder

    encoder = ClipImageEncoder(_tiny_clip(tmp_path / "clip"))
    images = encoder.encode([shirt_on_white((200, 30, 35)), shirt_on_white((30, 60, 170))])
    texts = encoder.encode_texts(["a red tee", "a blue bag"])
    assert images.shape == (2, 16) and texts.shape == (2, 16)
    assert np.allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-4) and np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(images[0], images[1])
    with pytest.raises(FileNotFoundError, match="no CLIP model"):
        ClipImageEncoder(tmp_path / "missing").encode([shirt_on_white((0, 0, 0))])


async def test_switching_to_clip_reindexes_photos_and_searches_across_modalities(tmp_path: Path) -> None:
    catalogue = _small_catalogue(tmp_path / "cat")
    clip = _tiny_clip(tmp_path / "clip")
    data = tmp_path / "data"
    first = BotService(Config(storage={"dir": data}, catalogue={"path": catalogue}, llm=RULES))
    await first.start(progress=False)
    assert first.recommender.store.image_encoder().startswith("efficientnet")
    await first.close()

    service = BotService(
        Config(storage={"dir": data}, catalogue={"path": catalogue}, models={"image_encoder": "clip", "clip_path": clip}, llm=RULES)
    )
    await service.start(progress=False)
    try:
        store = service.recommender.store
        assert store.image_encoder() == f"clip:{clip.name}"
        assert store.image_rows().vectors.shape == (4, 16)
        assert store.get("BAG").attributes[VISUAL_COLOR] == "Blue"  # colours survive the switch
        photo = await service.handle(Incoming(user_id="c", photos=[jpeg(shirt_on_white((200, 30, 35)))]))
        assert photo.error is None and photo.items and photo.items[0].id == "T0"
        text = await service.handle(Incoming(user_id="c2", text="a tee"))
        assert text.error is None and text.items
    finally:
        await service.close()


async def test_the_photo_category_model_is_fitted_at_index_time_and_read_at_start(
    config: Config, indexed_chroma: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys.photo.category_model import FILE, CategoryModel

    assert (indexed_chroma / FILE).is_file()  # indexing the catalogue stored it

    def no_fitting(rows: object) -> CategoryModel:
        raise AssertionError("the stored model should have been read, not fitted again")

    monkeypatch.setattr(CategoryModel, "fit", classmethod(lambda cls, rows: no_fitting(rows)))
    bot = new_bot(config)
    await bot.start(progress=False)
    try:
        reply = await bot.handle(Incoming(user_id="cm", photos=[(IMAGES / "mh01-gray_main.jpg").read_bytes()]))
        assert reply.items and reply.items[0].id == "MH01-Gray"
    finally:
        await bot.close()


SHOPPER_SHOTS = ["MH01-Gray", "WH02-Blue", "MJ04-Black", "WS03-Red", "MP10-Blue", "WB02-Yellow"]


async def test_a_product_photographed_on_another_background_is_found_in_its_colour(service: BotService) -> None:
    """The benchmark's shopper photos (held-out backgrounds: a flower, a portrait, fabric, a painted wall), each of
    another product: the product is cut out of the scene, so the variant and its colour are read, not the backdrop."""
    from recsys.photo.shopper_photos import shopper_photo

    found = 0
    for item_id in SHOPPER_SHOTS:
        shot = shopper_photo(Image.open(IMAGES / f"{item_id.lower()}_main.jpg"), "held_out", seed=5)
        reply = await service.handle(Incoming(user_id=f"shop-{item_id}", photos=[jpeg(shot, quality=80)]))
        color = item_id.split("-")[1].lower()
        found += bool(reply.items) and reply.items[0].id == item_id and color in reply.items[0].reason.lower()
    assert found >= len(SHOPPER_SHOTS) - 1


def test_only_a_plain_light_backdrop_counts_as_a_studio_shot(tmp_path: Path) -> None:
    from recsys.photo.search import PhotoQuery
    from recsys.photo.segment import isolate_product, on_studio_backdrop
    from recsys.photo.shopper_photos import _fabric

    studio = Image.open(IMAGES / "mh01-gray_main.jpg").convert("RGB")
    assert on_studio_backdrop(studio) and isolate_product(studio) is studio
    checked = Image.fromarray(np.clip(_fabric(np.random.default_rng(3)) * 1.6, 0, 255).astype(np.uint8))  # pale, light
    scene = checked.copy()
    scene.paste(studio.resize((200, 250)), (140, 110))
    assert not on_studio_backdrop(scene)
    cut = isolate_product(scene)
    assert cut is not scene and "Gray" in [name for name, _ in dominant_colors(cut)]
    query = PhotoQuery(np.ones(4, dtype=np.float32), None, "x", (), PhotoQuery(np.zeros(4, dtype=np.float32)))
    path = tmp_path / "q.npz"
    path.write_bytes(query.to_bytes())
    again = PhotoQuery.from_file(path)
    assert again.whole is not None and again.whole.vector.shape == (4,)  # a follow-up reads both views again


async def test_a_photo_of_several_products_is_answered_for_each_of_them(service: BotService) -> None:
    """A hoodie and yoga pants side by side on a concrete floor: both are among the suggestions, not four hoodies."""
    from recsys.photo.shopper_photos import composite_photo

    shot = composite_photo([Image.open(IMAGES / "mh01-gray_main.jpg"), Image.open(IMAGES / "wp10-black_main.jpg")], "tuning", seed=1)
    reply = await service.handle(Incoming(user_id="several", photos=[jpeg(shot, quality=80)]))
    kinds = {i.categories[0].split("/")[-1] for i in reply.items}
    assert {"Hoodies & Sweatshirts", "Pants"} <= kinds, [i.id for i in reply.items]


def test_the_photo_category_counts_only_where_the_model_is_confident() -> None:
    from sklearn.linear_model import LogisticRegression

    from recsys.photo.category_model import CategoryModel

    x = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    labels = np.array(["Tees", "Tees", "Bags", "Bags"])
    model = CategoryModel(labels, LogisticRegression(C=4.0).fit(x, labels), "toy")
    sure, unsure = np.array([1, 0], dtype=np.float32), np.array([0.5, 0.5], dtype=np.float32)
    assert model.item_scores(sure, confidence=0.5)[0] > model.item_scores(sure, confidence=0.5)[2]  # a tee: the tees gain
    assert not model.item_scores(unsure, confidence=0.7).any()  # half tee, half bag: no kind gains
    assert model.item_scores(unsure).any()  # without a threshold the old blend stays
