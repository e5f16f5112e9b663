"""With mask_personal, cassettes hold no recipient, in queries or URLs."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amcards import AMcardsClient
from amcards.core.http import Request, Response, Timeout
from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    FakeAMcards,
    FakeTransport,
)
from amcards.transports.recorded import (
    MASKED,
    RecordingTransport,
    ReplayTransport,
)

MULLINS_FILTER = {"ship_to_last_name__iexact": "mullins"}


def recorded_client(path, service=None):
    """A client on a fresh demo fake, recorded with masking."""
    recorder = RecordingTransport(
        FakeTransport(service), path, mask_personal=True
    )
    return AMcardsClient(DEMO_ACCESS_TOKEN, transport=recorder)


def replaying_client(path, **options):
    return AMcardsClient(
        "any-token", transport=ReplayTransport(path, **options)
    )


def exchanges(path):
    return json.loads(path.read_text(encoding="utf-8"))["exchanges"]


def test_a_personal_filter_is_masked_in_the_query_and_the_page_links(
    tmp_path,
):
    """The filter value is gone from the query and from meta.next/previous."""
    path = tmp_path / "c.json"
    with recorded_client(path) as client:
        first = client.cards(limit=2, filters=MULLINS_FILTER)
        second = client.cards(limit=2, skip=2, filters=MULLINS_FILTER)
    assert [len(first), len(second)] == [2, 1]
    assert "mullins" not in path.read_text(encoding="utf-8").lower()
    page_one, page_two = exchanges(path)
    query = dict(page_one["request"]["query"])
    assert query["ship_to_last_name__iexact"] == MASKED
    assert query["limit"] == "2"
    meta = page_one["response"]["body"]["json"]["meta"]
    assert meta["next"] == (
        "/.api/v1/card/?ship_to_last_name__iexact=<masked>&limit=2&offset=2"
    )
    previous = page_two["response"]["body"]["json"]["meta"]["previous"]
    assert previous == (
        "/.api/v1/card/?ship_to_last_name__iexact=<masked>&limit=2&offset=0"
    )


def test_a_masked_filter_still_replays_the_same_calls(tmp_path):
    """Replayed requests are masked the same way, so they match."""
    path = tmp_path / "c.json"
    with recorded_client(path) as client:
        recorded = [
            card.id for card in client.cards(limit=2, filters=MULLINS_FILTER)
        ]
        client.cards(limit=2, skip=2, filters=MULLINS_FILTER)
    replay = replaying_client(path)
    again = replay.cards(limit=2, filters=MULLINS_FILTER)
    assert [card.id for card in again] == recorded
    other_name = {"ship_to_last_name__iexact": "someone else"}
    assert len(replay.cards(limit=2, skip=2, filters=other_name)) == 1


@pytest.mark.parametrize(
    "name",
    [
        "last_name",
        "ship_to_first_name__icontains",
        "return_to_last_name__in",
        "return_first_name",
        "email_address__iexact",
        "phone_number",
        "ship_to_line_1__startswith",
        "organization",
        "ship_to_organization__icontains",
        "notes__contains",
        "birth_date",
        "birth_year__gte",
        "anniversary_month",
        "owner__email",
    ],
)
def test_personal_query_parameters_are_masked(tmp_path, name):
    """A personal field, with any prefix or lookup, is masked in a query."""
    path = tmp_path / "c.json"
    request = Request("GET", "/.api/v1/contact/", query=[(name, "Secret1")])
    inner = FakeTransport()
    with RecordingTransport(inner, path, mask_personal=True) as recorder:
        recorder.send(request)
    assert exchanges(path)[0]["request"]["query"] == [[name, MASKED]]
    assert ReplayTransport(path).send(request)


@pytest.mark.parametrize(
    "name",
    ["third_party_contact_id", "ship_to_city", "limit", "initiator", "id"],
)
def test_other_query_parameters_are_kept(tmp_path, name):
    """Cities, ids and paging are not masked."""
    path = tmp_path / "c.json"
    request = Request("GET", "/.api/v1/card/", query=[(name, "7")])
    with RecordingTransport(
        FakeTransport(), path, mask_personal=True
    ) as recorder:
        recorder.send(request)
    assert exchanges(path)[0]["request"]["query"] == [[name, "7"]]


def test_organization_notes_and_birth_dates_of_contacts_are_masked(tmp_path):
    """Contacts keep no organization, notes or birth or anniversary date."""
    path = tmp_path / "c.json"
    with recorded_client(path) as client:
        contacts = client.contacts(limit=10)
    text = path.read_text(encoding="utf-8")
    for value in ("Souza Bakery", "spring fair", "1980", "2015"):
        assert value not in text
    stored = exchanges(path)[0]["response"]["body"]["json"]["objects"]
    for contact in stored:
        for key in (
            "organization",
            "notes",
            "birth_year",
            "birth_month",
            "birth_day",
            "anniversary_year",
            "anniversary_month",
            "anniversary_day",
        ):
            assert contact[key] in (MASKED, ""), key
    replayed = replaying_client(path).contacts(limit=10)
    assert [c.id for c in replayed] == [c.id for c in contacts]


def test_a_drip_cards_send_date_is_masked(tmp_path):
    """A campaign card's send date may be a birthday: it is masked."""
    service = FakeAMcards.demo()
    path = tmp_path / "c.json"
    with recorded_client(path, service) as client:
        client.send_campaign(
            DEMO_CAMPAIGN_ID,
            "shop",
            {
                "first_name": "Bea",
                "last_name": "Birthday",
                "address_line_1": "3 Cake Street",
                "city": "Portland",
                "state": "ME",
                "postal_code": "04101",
                "birth_date": "1990-10-17",
            },
            send_date="2030-10-01",
        )
        cards = client.cards(limit=100)
    assert any(card.send_date == "2030-10-17" for card in cards)
    text = path.read_text(encoding="utf-8")
    assert "10-17" not in text
    listed = exchanges(path)[-1]["response"]["body"]["json"]["objects"]
    for card in listed:
        if card["campaign_pk"] is None:
            assert card["send_date"] != MASKED
        else:
            assert card["send_date"] == MASKED
    sent = exchanges(path)[0]["request"]["body"]["json"]
    assert sent["send_date"] == "2030-10-01"
    replayed = replaying_client(path, any_order=True).cards(limit=100)
    assert len(replayed) == len(cards)


class _AnswerWith:
    def __init__(self, answer: Response) -> None:
        self.answer = answer

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        return self.answer

    def close(self) -> None:
        pass


def test_personal_values_in_text_and_headers_are_masked(tmp_path):
    """Parameters, quoted fields and emails inside text are masked too."""
    body = (
        "<a href='/c/?first_name=Zelda&city=Oslo'>x</a> "
        "{'last_name': 'Quist'} mail zq@example.com"
    )
    answer = Response(
        200,
        [
            ("Content-Type", "text/html"),
            ("Location", "/x/?email=zq%40example.com"),
        ],
        body.encode(),
    )
    path = tmp_path / "c.json"
    with RecordingTransport(
        _AnswerWith(answer), path, mask_personal=True
    ) as recorder:
        recorder.send(Request("GET", "/"))
    text = path.read_text(encoding="utf-8")
    for value in ("Zelda", "Quist", "zq@", "zq%40"):
        assert value not in text
    assert "city=Oslo" in text


def test_stored_requests_are_cleaned_again_before_matching(tmp_path):
    """An entry left unmasked (older recorder, hand edit) still matches."""
    path = tmp_path / "c.json"
    with recorded_client(path) as client:
        client.cards(limit=2, filters=MULLINS_FILTER)
    cassette = json.loads(path.read_text(encoding="utf-8"))
    request = cassette["exchanges"][0]["request"]
    request["query"] = [
        [name, "Mullins" if value == MASKED else value]
        for name, value in request["query"]
    ]
    path.write_text(json.dumps(cassette), encoding="utf-8")
    replay = replaying_client(path)
    assert len(replay.cards(limit=2, filters=MULLINS_FILTER)) == 2


def test_a_stored_text_body_is_cleaned_again_before_matching(tmp_path):
    """A body stored as text that now reads as masked JSON still matches."""
    body = json.dumps({"organization": "Acme", "n": 1}).encode()
    request = Request(
        "POST", "/x/", headers=[("Content-Type", "text/plain")], body=body
    )
    path = tmp_path / "c.json"
    with RecordingTransport(
        _AnswerWith(Response(204)), path, mask_personal=True
    ) as recorder:
        recorder.send(request)
    cassette = json.loads(path.read_text(encoding="utf-8"))
    stored = cassette["exchanges"][0]["request"]
    assert stored["body"] == {"json": {"organization": MASKED, "n": 1}}
    stored["body"] = {"text": body.decode()}
    path.write_text(json.dumps(cassette), encoding="utf-8")
    assert ReplayTransport(path).send(request).status == 204


KEYS = st.sampled_from(
    [
        "id",
        "city",
        "first_name",
        "ship_to_last_name__iexact",
        "notes",
        "send_date",
        "campaign_pk",
        "access_token",
        "code",
        "next",
    ]
)
TEXTS = st.sampled_from(
    [
        "",
        "Ada",
        "ada@example.com",
        "write to ada@example.com",
        "/.api/v1/card/?last_name=Ada&limit=2",
        "x=first_name=Ada",
        "access_token=t0k&code=c0de",
        "{'first_name': 'Ada'}",
        '"notes": "a \\"quoted\\" note"',
        "a=b=c&&d",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | TEXTS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    value=JSON_VALUES,
    query=st.lists(st.tuples(KEYS, TEXTS), max_size=3),
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
        ]
    ),
    path=st.sampled_from(["/x/", "/oauth2/token/", "/x/?last_name=Ada"]),
)
def test_a_masked_recording_always_replays_its_own_requests(
    tmp_path, value, query, content_type, path
):
    """Whatever a request holds, cleaning it twice matches cleaning once."""
    headers = [("Content-Type", content_type)] if content_type else []
    body = json.dumps(value).encode()
    request = Request("POST", path, query=query, headers=headers, body=body)
    cassette = tmp_path / "c.json"
    with RecordingTransport(
        _AnswerWith(Response(204)), cassette, mask_personal=True
    ) as recorder:
        recorder.send(request)
    assert ReplayTransport(cassette).send(request).status == 204
    form = urlencode(query).encode()
    request = Request("POST", path, headers=headers, body=form)
    with RecordingTransport(
        _AnswerWith(Response(204)), cassette, mask_personal=True
    ) as recorder:
        recorder.send(request)
    assert ReplayTransport(cassette).send(request).status == 204
