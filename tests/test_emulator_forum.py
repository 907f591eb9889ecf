"""Forum topics in the counselors' supergroup, answered as Telegram answers them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden

from emulator.state import DEFAULT_TOPIC_COLOR, EmulatorState
from helpdesk.settings import EMULATOR_BOT_TOKEN

GROUP = -1001234567890
OWNER, COUNSELOR, VOLUNTEER, OUTSIDER = 500, 501, 502, 503
BOT_ID = int(EMULATOR_BOT_TOKEN.split(":", 1)[0])
YELLOW = 0xFFD67E

Staff = tuple[EmulatorState, Bot, httpx.AsyncClient]


def bot_for(port: int) -> Bot:
    return Bot(EMULATOR_BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/bot")


async def call(client: httpx.AsyncClient, method: str, path: str, expect: int = 200,
               **body: Any) -> Any:
    response = await client.request(method, path, json=body or None)
    assert response.status_code == expect, response.text
    return response.json()


async def set_member(client: httpx.AsyncClient, user_id: int, status: str,
                     can_manage_topics: bool = False, chat_id: int = GROUP) -> None:
    await call(client, "POST", f"/groups/{chat_id}/members", user_id=user_id, status=status,
               can_manage_topics=can_manage_topics)


async def post(client: httpx.AsyncClient, text: str, thread_id: int | None = None,
               from_id: int = COUNSELOR, expect: int = 200, **extra: Any) -> Any:
    return await call(client, "POST", f"/groups/{GROUP}/send", expect, from_id=from_id,
                      text=text, message_thread_id=thread_id, **extra)


async def drain(bot: Bot) -> tuple[Update, ...]:
    """Every pending update, confirmed so that the next call sees only newer ones."""
    updates = await bot.get_updates(timeout=0)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


@pytest.fixture
async def staff(emulator: tuple[EmulatorState, int]) -> AsyncIterator[Staff]:
    """A forum supergroup: an owner, a counselor who manages topics, a volunteer, the bot."""
    state, port = emulator
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api") as client, \
            bot_for(port) as bot:
        group = await call(client, "POST", f"/groups/{GROUP}", title="Hamamatsu counselors")
        assert group["is_forum"] is True and group["type"] == "supergroup"
        await set_member(client, OWNER, "creator")
        await set_member(client, COUNSELOR, "administrator", can_manage_topics=True)
        await set_member(client, VOLUNTEER, "member")
        yield state, bot, client


async def test_get_chat_tells_forums_groups_and_private_chats_apart(staff: Staff) -> None:
    state, bot, client = staff
    forum = await bot.get_chat(GROUP)
    assert (forum.type, forum.title, forum.is_forum) == ("supergroup", "Hamamatsu counselors",
                                                         True)
    await call(client, "POST", "/groups/-1009", title="Plain group", is_forum=False)
    plain = await bot.get_chat(-1009)
    assert plain.type == "supergroup" and not plain.is_forum
    state.chat(42, first_name="Mai")
    private = await bot.get_chat(42)
    assert (private.type, private.first_name) == ("private", "Mai")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(-1000)


async def test_get_chat_member_reports_each_status(staff: Staff) -> None:
    state, bot, client = staff
    state.chat(42)  # a resident: known to Telegram, never in the staff group
    await set_member(client, OUTSIDER, "kicked")
    statuses = {user_id: (await bot.get_chat_member(GROUP, user_id)).status
                for user_id in (OWNER, COUNSELOR, VOLUNTEER, OUTSIDER, 42)}
    assert statuses == {OWNER: "creator", COUNSELOR: "administrator", VOLUNTEER: "member",
                        OUTSIDER: "kicked", 42: "left"}
    counselor = await bot.get_chat_member(GROUP, COUNSELOR)
    assert counselor.can_manage_topics and counselor.user.id == COUNSELOR
    me = await bot.get_chat_member(GROUP, BOT_ID)
    assert me.status == "administrator" and me.can_manage_topics and me.user.is_bot
    await set_member(client, VOLUNTEER, "left")
    assert (await bot.get_chat_member(GROUP, VOLUNTEER)).status == "left"
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(GROUP, 999999)


async def test_create_topic_posts_its_service_message(staff: Staff) -> None:
    _, bot, client = staff
    topic = await bot.create_forum_topic(GROUP, "Ticket #1 · Nguyen", icon_color=YELLOW)
    assert (topic.name, topic.icon_color) == ("Ticket #1 · Nguyen", YELLOW)
    plain = await bot.create_forum_topic(GROUP, "  " + "x" * 200)
    assert plain.name == "x" * 128 and plain.icon_color == DEFAULT_TOPIC_COLOR
    assert plain.message_thread_id > topic.message_thread_id
    [created] = await call(client, "GET",
                           f"/groups/{GROUP}/topics/{topic.message_thread_id}/messages")
    assert created["message_id"] == created["message_thread_id"] == topic.message_thread_id
    assert created["forum_topic_created"] == {"name": "Ticket #1 · Nguyen", "icon_color": YELLOW}
    assert created["is_topic_message"] is True and created["from"]["id"] == BOT_ID
    listed = await call(client, "GET", f"/groups/{GROUP}/topics")
    assert [t["message_thread_id"] for t in listed] == [topic.message_thread_id,
                                                        plain.message_thread_id]
    assert await drain(bot) == ()  # the bot gets no updates about its own messages


async def test_create_topic_errors(staff: Staff) -> None:
    state, bot, client = staff
    state.chat(42)
    await call(client, "POST", "/groups/-1009", title="Plain group", is_forum=False)
    for chat_id in (42, -1009):
        with pytest.raises(BadRequest, match=r"(?i)^the chat is not a forum$"):
            await bot.create_forum_topic(chat_id, "Ticket")
    with pytest.raises(BadRequest, match=r"(?i)title must be non-empty"):
        await bot.create_forum_topic(GROUP, "   ")
    with pytest.raises(BadRequest, match=r"(?i)invalid icon color"):
        await bot.create_forum_topic(GROUP, "Ticket", icon_color=0x1000000)
    await set_member(client, BOT_ID, "administrator", can_manage_topics=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to create a topic"):
        await bot.create_forum_topic(GROUP, "Ticket")
    await set_member(client, BOT_ID, "left")
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
        await bot.create_forum_topic(GROUP, "Ticket")
    assert await call(client, "GET", f"/groups/{GROUP}/topics") == []


async def test_messages_in_a_topic_both_ways(staff: Staff) -> None:
    _, bot, client = staff
    topic = await bot.create_forum_topic(GROUP, "Ticket #2")
    thread = topic.message_thread_id
    sent = await bot.send_message(GROUP, "New question from a resident", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert sent.reply_to_message.forum_topic_created.name == "Ticket #2"

    posted = await post(client, "I'll take this one", thread)
    assert posted["message_thread_id"] == thread and posted["update_id"] is not None
    await post(client, "/close", thread, from_id=VOLUNTEER)
    answer = await post(client, "Which ward?", reply_to_message_id=sent.message_id)
    await call(client, "POST", f"/groups/{GROUP}/send", from_id=COUNSELOR, kind="photo",
               text="Form", message_thread_id=thread)
    await post(client, "Lunch anyone?")  # the General topic
    updates = await drain(bot)
    messages = [u.message for u in updates]
    assert [m.text or m.caption for m in messages] == [
        "I'll take this one", "/close", "Which ward?", "Form", "Lunch anyone?"]
    for message in messages[:4]:
        assert message.message_thread_id == thread and message.is_topic_message
        assert message.chat.is_forum and message.chat.type == "supergroup"
    assert messages[0].reply_to_message.message_id == thread
    assert messages[0].reply_to_message.forum_topic_created.name == "Ticket #2"
    assert messages[0].from_user.id == COUNSELOR
    assert messages[1].entities[0].type == "bot_command"
    assert messages[2].reply_to_message.message_id == sent.message_id  # answered, not the root
    assert messages[2].message_id == answer["message_id"]
    assert messages[3].photo
    general = messages[4]
    assert general.message_thread_id is None and not general.is_topic_message
    assert general.reply_to_message is None

    texts = [m.get("text") for m in await call(
        client, "GET", f"/groups/{GROUP}/topics/{thread}/messages")]
    assert texts == [None, "New question from a resident", "I'll take this one", "/close",
                     "Which ward?", None]


async def test_sending_to_a_missing_thread_fails(staff: Staff) -> None:
    state, bot, client = staff
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP, "hello", message_thread_id=777)
    await call(client, "POST", "/groups/-1009", title="Plain group", is_forum=False)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(-1009, "hello", message_thread_id=1)
    state.chat(42)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(42, "hello", message_thread_id=1)


async def test_edit_close_reopen_topic(staff: Staff) -> None:
    _, bot, client = staff
    thread = (await bot.create_forum_topic(GROUP, "Ticket #3")).message_thread_id
    assert await bot.edit_forum_topic(GROUP, thread, name="Ticket #3 · answered")
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(GROUP, thread, name="Ticket #3 · answered")
    assert await bot.edit_forum_topic(GROUP, thread)  # nothing asked, nothing changed
    assert await bot.close_forum_topic(GROUP, thread)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(GROUP, thread)

    # Closed: the bot, managing topics, still writes; a volunteer no longer can.
    await bot.send_message(GROUP, "Closed by the desk", message_thread_id=thread)
    await post(client, "one more thing", thread, from_id=VOLUNTEER, expect=403)
    await post(client, "noted", thread, from_id=COUNSELOR)
    await set_member(client, BOT_ID, "administrator", can_manage_topics=False)
    with pytest.raises(BadRequest, match=r"(?i)^TOPIC_CLOSED$"):
        await bot.send_message(GROUP, "still there?", message_thread_id=thread)

    # Having opened the topic, the bot may reopen it without the right.
    assert await bot.reopen_forum_topic(GROUP, thread)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(GROUP, thread)
    await bot.send_message(GROUP, "Reopened", message_thread_id=thread)

    services = [{k: m[k] for k in m if k.startswith("forum_topic_")}
                for m in await call(client, "GET", f"/groups/{GROUP}/topics/{thread}/messages")]
    assert [s for s in services if s] == [
        {"forum_topic_created": {"name": "Ticket #3", "icon_color": DEFAULT_TOPIC_COLOR}},
        {"forum_topic_edited": {"name": "Ticket #3 · answered"}},
        {"forum_topic_closed": {}}, {"forum_topic_reopened": {}}]
    [topic] = await call(client, "GET", f"/groups/{GROUP}/topics")
    assert (topic["name"], topic["is_closed"]) == ("Ticket #3 · answered", False)


async def test_delete_topic_and_unknown_topics(staff: Staff) -> None:
    state, bot, client = staff
    thread = (await bot.create_forum_topic(GROUP, "Ticket #4")).message_thread_id
    on_it = await post(client, "on it", thread)
    general = await bot.send_message(GROUP, "General stays")
    assert await bot.delete_forum_topic(GROUP, thread)
    await call(client, "GET", f"/groups/{GROUP}/topics/{thread}/messages", expect=404)
    assert await call(client, "GET", f"/groups/{GROUP}/topics") == []
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP, "hello?", message_thread_id=thread)
    state.chat(42)
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(42, GROUP, on_it["message_id"])  # gone with its topic
    await bot.copy_message(42, GROUP, general.message_id)
    for method in (bot.close_forum_topic, bot.reopen_forum_topic, bot.delete_forum_topic):
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
            await method(GROUP, thread)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
        await bot.edit_forum_topic(GROUP, thread, name="gone")
    with pytest.raises(BadRequest, match=r"(?i)invalid message thread identifier"):
        await bot.close_forum_topic(GROUP, 0)
    state_events = await call(client, "GET", f"/chats/{GROUP}/events")
    deleted = [e for e in state_events if e["kind"] == "delete"]
    assert deleted and deleted[0]["payload"]["message_thread_id"] == thread
    assert len(deleted[0]["payload"]["message_ids"]) == 2
    assert general.message_id not in deleted[0]["payload"]["message_ids"]


async def test_copy_and_forward_between_resident_and_topic(staff: Staff) -> None:
    state, bot, client = staff
    resident = state.chat(42, first_name="Nguyen")
    question = await call(client, "POST", "/chats/42/send", text="Where is city hall?")
    photo = await call(client, "POST", "/chats/42/send", kind="photo", text="my card")
    await drain(bot)
    thread = (await bot.create_forum_topic(GROUP, "Ticket #5")).message_thread_id

    copied = await bot.copy_message(GROUP, 42, question["message_id"], message_thread_id=thread)
    forwarded = await bot.forward_message(GROUP, 42, photo["message_id"],
                                          message_thread_id=thread)
    recaptioned = await bot.copy_message(GROUP, 42, photo["message_id"],
                                         message_thread_id=thread, caption="<b>card</b>",
                                         parse_mode="HTML")
    assert forwarded.forward_origin.sender_user.id == 42 and forwarded.photo
    assert forwarded.message_thread_id == thread and forwarded.is_topic_message
    in_topic = {m["message_id"]: m for m in await call(
        client, "GET", f"/groups/{GROUP}/topics/{thread}/messages")}
    assert in_topic[copied.message_id]["text"] == "Where is city hall?"
    assert "forward_origin" not in in_topic[copied.message_id]
    assert in_topic[copied.message_id]["from"]["id"] == BOT_ID
    assert in_topic[recaptioned.message_id]["caption"] == "card"
    assert in_topic[recaptioned.message_id]["caption_entities"][0]["type"] == "bold"

    reply = await post(client, "It's next to the station", thread)
    back = await bot.copy_message(42, GROUP, reply["message_id"])
    out = resident.messages[back.message_id]
    assert out["text"] == "It's next to the station" and "message_thread_id" not in out
    assert resident.events[-1].direction == "out"

    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(GROUP, 42, 9999, message_thread_id=thread)
    with pytest.raises(BadRequest, match=r"(?i)message can't be copied"):
        await bot.copy_message(42, GROUP, thread)  # the forum_topic_created service message
    with pytest.raises(BadRequest, match=r"(?i)message to forward not found"):
        await bot.forward_message(GROUP, 42, 9999)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.copy_message(GROUP, 42, question["message_id"], message_thread_id=777)


async def test_what_the_bot_sees_depends_on_its_membership(staff: Staff) -> None:
    _, bot, client = staff
    thread = (await bot.create_forum_topic(GROUP, "Ticket #6")).message_thread_id
    await set_member(client, BOT_ID, "member")  # privacy mode: commands only
    assert (await post(client, "chatting", thread))["update_id"] is None
    await post(client, "/claim", thread)
    assert [u.message.text for u in await drain(bot)] == ["/claim"]
    await set_member(client, BOT_ID, "kicked")
    assert (await post(client, "/claim", thread))["update_id"] is None
    assert await drain(bot) == ()
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked"):
        await bot.send_message(GROUP, "hello", message_thread_id=thread)


async def test_client_api_refuses_what_telegram_would(staff: Staff) -> None:
    state, bot, client = staff
    thread = (await bot.create_forum_topic(GROUP, "Ticket #7")).message_thread_id
    other = (await bot.create_forum_topic(GROUP, "Ticket #8")).message_thread_id
    await post(client, "let me in", thread, from_id=OUTSIDER, expect=403)
    await post(client, "hi", thread, from_id=BOT_ID, expect=400)
    await post(client, "hi", 777, expect=404)
    await post(client, "hi", other, reply_to_message_id=thread, expect=400)
    await post(client, "hi", reply_to_message_id=9999, expect=404)
    await call(client, "POST", f"/groups/{GROUP}/send", 422, from_id=COUNSELOR)
    await call(client, "POST", "/groups/-1009", title="Plain group", is_forum=False)
    await call(client, "POST", "/groups/-1009/members", user_id=COUNSELOR, status="member")
    await call(client, "POST", "/groups/-1009/send", 400, from_id=COUNSELOR, text="hi",
               message_thread_id=1)
    await call(client, "POST", f"/chats/{GROUP}/send", 409, text="hi")
    state.chat(42)
    await call(client, "POST", "/groups/42", 409, title="Not a group")
    await call(client, "POST", "/groups/-1555/members", 404, user_id=COUNSELOR)
    await call(client, "GET", f"/groups/{GROUP}/topics/777/messages", expect=404)
    assert await drain(bot) == ()


async def test_results_and_errors_on_the_wire_read_as_telegrams(staff: Staff) -> None:
    """python-telegram-bot rewords descriptions; the bot's own checks will see these."""
    _, bot, client = staff
    await call(client, "POST", "/groups/-1009", title="Plain group", is_forum=False)

    async with httpx.AsyncClient(base_url=f"{bot.base_url}/") as wire:
        async def answer(method: str, **params: Any) -> dict[str, Any]:
            return (await wire.post(method, json=params)).json()

        def refused(description: str, code: int = 400) -> dict[str, Any]:
            return {"ok": False, "error_code": code, "description": description}

        created = await answer("createForumTopic", chat_id=GROUP, name="Ticket #9")
        thread = created["result"]["message_thread_id"]
        assert created == {"ok": True, "result": {"message_thread_id": thread,
                                                  "name": "Ticket #9",
                                                  "icon_color": DEFAULT_TOPIC_COLOR}}
        assert await answer("createForumTopic", chat_id=-1009, name="x") == refused(
            "Bad Request: the chat is not a forum")
        assert await answer("sendMessage", chat_id=GROUP, text="x",
                            message_thread_id=777) == refused(
            "Bad Request: message thread not found")
        assert await answer("closeForumTopic", chat_id=GROUP,
                            message_thread_id=777) == refused("Bad Request: TOPIC_ID_INVALID")
        assert (await answer("closeForumTopic", chat_id=GROUP, message_thread_id=thread))["ok"]
        assert await answer("closeForumTopic", chat_id=GROUP,
                            message_thread_id=thread) == refused(
            "Bad Request: TOPIC_NOT_MODIFIED")
        assert await answer("getChatMember", chat_id=GROUP, user_id=999999) == refused(
            "Bad Request: user not found")
        member = await answer("getChatMember", chat_id=GROUP, user_id=VOLUNTEER)
        assert member["result"] == {"status": "member", "user": {
            "id": VOLUNTEER, "is_bot": False, "first_name": "Counselor"}}
        await set_member(client, BOT_ID, "administrator", can_manage_topics=False)
        assert await answer("sendMessage", chat_id=GROUP, text="x",
                            message_thread_id=thread) == refused("Bad Request: TOPIC_CLOSED")
        assert await answer("createForumTopic", chat_id=GROUP, name="x") == refused(
            "Bad Request: not enough rights to create a topic")
        await set_member(client, BOT_ID, "left")
        assert await answer("sendMessage", chat_id=GROUP, text="x") == refused(
            "Forbidden: bot is not a member of the supergroup chat", 403)
