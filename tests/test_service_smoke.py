from bot.messages import Incoming


async def test_a_text_request_gets_items_that_fit(service):
    reply = await service.handle(Incoming(user_id="u1", text="a blue tee under $30"))
    assert 1 <= len(reply.items) <= 4
    assert all(i.color == "Blue" and i.price <= 30 for i in reply.items)
