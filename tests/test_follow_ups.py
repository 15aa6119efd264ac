"""Follow-ups a shopper says about prices and sizes, end to end on the demo catalogue with `rules`."""

from __future__ import annotations

from bot.messages import Incoming
from bot.service import BotService
from recsys.catalogue.items import DEMO_CATALOGUE


async def test_cheaper_alone_shows_cheaper_items_and_says_so(service: BotService) -> None:
    first = await service.handle(Incoming(user_id="c1", text="a hoodie for men"))
    cheapest = min(i.price for i in first.items)
    cheaper = await service.handle(Incoming(user_id="c1", text="cheaper"))
    assert cheaper.items and all(i.price < cheapest and "Men/Tops/Hoodies" in " ".join(i.categories) for i in cheaper.items)
    assert cheaper.text.startswith(f"Cheaper than what I showed (the least expensive was ${cheapest:g}")


async def test_cheaper_than_the_cheapest_there_is_looks_under_the_dearest_shown(service: BotService) -> None:
    watches = [i for i in service.recommender.store.all_items().values() if "Gear/Watches" in i.categories]  # type: ignore[union-attr]
    shown = await service.handle(Incoming(user_id="c2", text="a watch"))
    seen = {i.id for i in shown.items}
    for _ in range(len(watches)):  # "cheaper" until the cheapest watch has been shown
        if min(i.price for i in shown.items) == min(w.price for w in watches):
            break
        shown = await service.handle(Incoming(user_id="c2", text="cheaper"))
        assert shown.text.startswith("Cheaper than what I showed")
        seen |= {i.id for i in shown.items}
    cheaper = await service.handle(Incoming(user_id="c2", text="cheaper"))
    if len({i.price for i in shown.items}) > 1 and any(w.id not in seen and w.price < max(i.price for i in shown.items) for w in watches):
        assert cheaper.text.startswith("Nothing that fits is cheaper than")
        assert cheaper.items and all(i.price < max(s.price for s in shown.items) and i.id not in seen for i in cheaper.items)
    else:
        assert cheaper.text.startswith("What I showed was already the least expensive") and not cheaper.items


async def test_pricier_alone_goes_above_the_dearest_shown(service: BotService) -> None:
    first = await service.handle(Incoming(user_id="c3", text="a women's jacket under $60"))
    pricier = await service.handle(Incoming(user_id="c3", text="something pricier"))
    dearest = max(i.price for i in first.items)
    assert pricier.items and all(i.price > dearest and "Jackets" in " ".join(i.categories) for i in pricier.items)
    assert pricier.text.startswith("Pricier than what I showed")


async def test_a_size_is_a_filter_shown_on_the_cards(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="s1", text="a size XS hoodie for women"))
    assert reply.items and all("XS" in i.sizes and i.categories[0].startswith("Women/") for i in reply.items)
    assert "size XS" in reply.text
    pants = await service.handle(Incoming(user_id="s2", text="32 in pants for men"))
    assert pants.items and all("32" in i.sizes for i in pants.items)
    bigger = await service.handle(Incoming(user_id="s2", text="in 36 please"))  # a waist the shop lists: a follow-up
    assert bigger.items and all("36" in i.sizes and "Pants" in " ".join(i.categories) for i in bigger.items)


async def test_a_size_the_shop_does_not_stock_is_said_not_ignored(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="s3", text="a size 14 jacket"))
    assert not reply.items and "size 14" in reply.text


async def test_chinese_sizes(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="s4", text="M码的女士卫衣"))
    assert reply.items and all("M" in i.sizes for i in reply.items) and "尺码M" in reply.text


async def test_like_this_but_cheaper_with_a_photo_is_cheaper_than_the_photos_product(service: BotService) -> None:
    await service.handle(Incoming(user_id="c9", text="a hoodie under $60"))  # an earlier list must not be the reference
    photo = (DEMO_CATALOGUE.parent / "images" / "mb01-blue-0.jpg").read_bytes()
    reply = await service.handle(Incoming(user_id="c9", photos=[photo], text="something like this, but cheaper"))
    bag = service.item("24-MB01")
    assert bag is not None and bag.price is not None
    assert reply.items and all(i.price is not None and i.price < bag.price for i in reply.items), reply.text
    assert "24-MB01" not in [i.id for i in reply.items] and bag.name in reply.text.splitlines()[0]
    chinese = await service.handle(Incoming(user_id="c10", photos=[photo], text="像这个但是便宜一点的"))
    assert chinese.items and all(i.price is not None and i.price < bag.price for i in chinese.items) and "照片" in chinese.text
