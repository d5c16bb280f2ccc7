"""46elks' documented request examples, transcribed from the seeds for the contract test.

Sources (not read at run time: a clean clone may not have them):
- ``46elks-api-reference.txt`` ("API reference"): one example per endpoint, parameters as
  ``key = value`` lines and the example JSON answer. Replayed as 46elks' own curl samples
  send them (``curl -d key=value``: values unencoded, so ``to=+46...`` arrives as a space).
- ``46elks-allocate-number.txt`` ("Allocate a number"): the same request in six client
  libraries, each sending its form body its own way.

``params`` are the documented values verbatim. ``overrides`` replace the few values that
cannot be sent literally, each with the reason in ``note``. Placeholder URLs
(``http://yourserver/``, ``http://www.server.com/...``) are pointed at a local receiver by the
test, so nothing leaves the machine. ``ref`` names the object the ``{id}`` in ``path`` is.
``response`` is the documented answer (``None`` for binary files); the test compares keys and
value types, not ids, times or prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REF = "API reference"
ALLOC = "Allocate a number"

# How a client sends the form body (see the allocate-number seed's samples):
CURL = "curl"  # curl -d k=v -d k=v: raw, unencoded, Content-Type x-www-form-urlencoded
FORM = "form"  # urlencoded with Content-Type x-www-form-urlencoded (requests, Unirest, PHP, Ruby)
NO_TYPE = "no-content-type"  # urlencoded body, no Content-Type header (Elixir HTTPotion)


@dataclass(frozen=True)
class SeedExample:
    source: str  # which seed, and the section heading in it
    method: str
    path: str
    response: Any
    params: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    send: str = CURL
    ref: str = ""
    status: int = 200
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} [{self.send}] ({self.source})"


_FAILED_CALL = {
    "created": "2016-11-03T15:08:14.609000",
    "direction": "outgoing",
    "from": "+46723175800",
    "id": "c719b1eefbf65b1f89c013e6433dbf537",
    "state": "failed",
    "to": "+46723175800",
}
_INCOMING_CALL = {
    "actions": [{"connect": "+4634090510", "result": "success"}],
    "cost": "1500",
    "created": "2016-11-03T09:24:24.355000",
    "direction": "incoming",
    "duration": 15,
    "from": "+46723175800",
    "id": "c595183c042b1e43d1c8e79b9fd5cbcab",
    "legs": [{"duration": 14, "from": "+46723175800", "state": "success", "to": "+4634090510"}],
    "start": "2016-11-03T09:24:24.333000",
    "state": "success",
    "to": "+46101994214",
}
_NUMBER = {
    "active": True,
    "capabilities": ["sms", "voice"],
    "category": "mobile",
    "country": "se",
    "expires": "2016-12-01T07:52:15",
    "id": "n53c05a4e002ae26f790cbaf82b93bc37",
    "number": "+46766861475",
    "sms_replies": True,
    "voice_start": "http://www.server.nu/incommuingca",
}
_SUBACCOUNT = {
    "created": "2014-12-08T13:18:07.625000",
    "id": "af3d05a159669e1951c5301bc6a61bac",
    "name": "This Co",
    "secret": "D81DEF1B65E19A83DBCEA0BE0D89D082",
    "usage": 12300,
    "usagelimit": 910000,
}
_ALLOCATED = {
    "id": "n57c8f48af76bf986a14f251b35389e8b",
    "active": "yes",
    "country": "se",
    "number": "+46766861001",
    "capabilities": ["sms", "voice", "mms"],
}
_ALLOCATE_PARAMS = {"country": "se", "capabilities": "sms,voice"}

EXAMPLES: tuple[SeedExample, ...] = (
    # -- API reference: calls ----------------------------------------------------------------
    SeedExample(
        f"{REF} § Start Phonecall",
        "POST",
        "/a1/Calls",
        params={
            "from": "TestElk",
            "to": "+46723175800",
            "voice_start": "Hi! This is your message.",
            "whenhangup": "http://yourserver/",
            "timeout": "25",
        },
        overrides={"from": "{voice_number}"},
        note="A call's caller id is one of your numbers (46elks: Make a phone call; the seed's "
        "own answer shows a number as from): TestElk is the SMS example's sender pasted here. "
        "The text voice_start is accepted as shown; that call then fails (the call list).",
        response={
            "created": "2016-11-03T15:08:14.609873",
            "direction": "outgoing",
            "from": "+46723175800",
            "id": "c719b1eefbf65b1f89c013e6433dbf537",
            "state": "ongoing",
            "to": "+46723175800",
        },
    ),
    SeedExample(
        f"{REF} § List latest 100 Calls",
        "GET",
        "/a1/Calls",
        response={"data": [_FAILED_CALL, _INCOMING_CALL]},
    ),
    SeedExample(
        f"{REF} § Get one Call.",
        "GET",
        "/a1/Calls/{id}",
        ref="incoming_call",
        response=_INCOMING_CALL,
    ),
    # -- MMS ---------------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Send MMS",
        "POST",
        "/a1/MMS",
        params={
            "from": "TestElk",
            "to": "+46723175800",
            "message": "Hi! This is your message.",
            "image": "http://yourserver/imge.png",
        },
        response={
            "cost": 12500,
            "created": "2016-11-03T12:44:56.180704",
            "direction": "outgoing",
            "from": "+46766861218",
            "id": "mf3d05c159aa49e1951c5301bc6af1bac",
            "message": "Hej!",
            "owner": "u5a0588130b2bfe9dec437a4df1056d15",
            "to": "+46723175800",
        },
    ),
    SeedExample(
        f"{REF} § List latest 100 MMS",
        "GET",
        "/a1/MMS",
        response={
            "data": [
                {
                    "cost": 12500,
                    "created": "2016-10-11T13:36:13.081000",
                    "direction": "outgoing",
                    "from": "Lasse",
                    "id": "m70df59406a1b4643b96f3f91e0bfb7b0",
                    "images": ["m70df59406a1b4643b96f3f91e0bfb7b0-i0"],
                    "message": "This is the message sent to the",
                    "to": "+46723175800",
                },
                {
                    "created": "2016-08-18T09:55:31.116000",
                    "direction": "incoming",
                    "from": "Martin",
                    "id": "m3633fa8e62f823e52fbc67ebf6925ab5",
                    "images": ["m70df59406a1b4643b96f3f91e0bfb7b0-i0"],
                    "message": "TEst 32423",
                    "to": "+46766861475",
                },
            ]
        },
    ),
    SeedExample(
        f"{REF} § Get one MMS.",
        "GET",
        "/a1/MMS/{id}",
        ref="incoming_mms",
        response={
            "created": "2016-08-18T09:55:31.116000",
            "direction": "incoming",
            "from": "+46723175800",
            "id": "m84af96809ff8989f3668c93aaedb69c",
            "images": ["m84af96809ff8989f3668c93aaedb69c-i0"],
            "message": "Message text.",
            "to": "+46766861475",
        },
    ),
    # -- SMS ---------------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Send SMS",
        "POST",
        "/a1/SMS",
        params={
            "from": "TestElk",
            "to": "+46723175800",
            "message": "Hi! This is your message.",
            "whendelivered": "http://yourserver/",
            "flashsms": "no",
        },
        response={
            "cost": 3500,
            "created": "2016-10-11T13:36:13.081000",
            "direction": "outgoing",
            "from": "Lasse",
            "id": "s70df59406a1b4643b96f3f91e0bfb7b0",
            "message": "This is the message sent to the phon",
            "to": "+46723175800",
        },
    ),
    SeedExample(
        f"{REF} § List latest 100 SMS",
        "GET",
        "/a1/SMS",
        response={
            "data": [
                {
                    "cost": 3500,
                    "created": "2016-10-11T13:36:13.081000",
                    "direction": "outgoing",
                    "from": "Lasse",
                    "id": "s70df59406a1b4643b96f3f91e0bfb7b0",
                    "message": "This is the message sent to the",
                    "to": "+46723175800",
                },
                {
                    "created": "2016-08-18T09:55:31.116000",
                    "direction": "incoming",
                    "from": "Martin",
                    "id": "s3633fa8e62f823e52fbc67ebf6925ab5",
                    "message": "TEst 32423",
                    "to": "+46766861475",
                },
            ]
        },
    ),
    SeedExample(
        f"{REF} § Get one SMS.",
        "GET",
        "/a1/SMS/{id}",
        ref="incoming_sms",
        response={
            "created": "2016-08-18T09:55:31.116000",
            "direction": "incoming",
            "from": "Martin",
            "id": "s3633fa8e62f823e52fbc67ebf6925ab5",
            "message": "TEst 32423",
            "to": "+46766861475",
        },
    ),
    # -- images ------------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Get image list",
        "GET",
        "/a1/images",
        response={
            "data": [
                {
                    "bytes": 4200,
                    "created": "2016-11-03T12:44:56.190000",
                    "digest": "6f15a43f350b49a02e6cdb0dd1863feea",
                    "filetype": "jpg",
                    "id": "mf3d05c159aa49e1951c5301bc6af1bac-i0",
                    "mmsid": "mf3d05c159aa49e1951c5301bc6af1bac",
                },
                {
                    "bytes": 206210,
                    "created": "2016-11-03T12:30:18.964000",
                    "digest": "c7e02bad59c63f8616fda84ac1ef689d01",
                    "filetype": "png",
                    "id": "m84af96809ff8989f3668c93aaedb69c-i0",
                    "mmsid": "m84af96809ff8989f3668c93aaedb69c",
                },
            ]
        },
    ),
    SeedExample(
        f"{REF} § Get metadata of one image.",
        "GET",
        "/a1/images/{id}",
        ref="image",
        response={
            "bytes": 206210,
            "created": "2016-11-03T12:30:18.964000",
            "digest": "c7e02bad59c63f8616fda84ac1ef689d017fa9",
            "filetype": "jpg",
            "id": "m84af96809ff8989f3668c93aaedb69c-i0",
            "mmsid": "m84af96809ff8989f3668c93aaedb69c",
        },
    ),
    SeedExample(
        f"{REF} § Get image file", "GET", "/a1/images/{id}.jpg", ref="image", response=None
    ),
    # -- account -----------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Get your account data",
        "GET",
        "/a1/me",
        response={
            "balance": 9670500,
            "currency": "SEK",
            "displayname": "Your name or company",
            "email": "help@46elks.com",
            "id": "u5a9566c072160b318445d163949bf505",
            "mobilenumber": "+46766861004",
            "trialactivated": "2013-06-20T18:44:27.434000",
        },
    ),
    # -- numbers -----------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Allocate new number for usage in the API.",
        "POST",
        "/a1/numbers",
        params={
            "country": "se",
            "capabilities": "sms,voice",
            "sms_url": "http://www.server.com/incomingsms",
            "mms_url": "http://www.server.com/incommingmms",
            "voice_start": "http://www.server.com/incommingcall",
            "sms_replies": "yes",
        },
        note="mms_url on an sms,voice number: stored, as 46elks does (issue 11 item 13).",
        response=_NUMBER,
    ),
    SeedExample(
        f"{REF} § Get all numbers allocated in the API",
        "GET",
        "/a1/numbers",
        response={
            "data": [
                _NUMBER | {"voice_start": "http://www.server.nu/incommu"},
                {
                    "active": True,
                    "capabilities": ["sms", "voice", "mms"],
                    "category": "mobile",
                    "country": "se",
                    "expires": "2016-12-01T07:52:15",
                    "id": "n53c05a4e002ae26f790cbaf82b93bc38",
                    "number": "+46766861476",
                    "sms_url": "http://www.server.nu/incommuingc",
                },
            ]
        },
    ),
    SeedExample(
        f"{REF} § Change parameters of number",
        "POST",
        "/a1/numbers/{id}",
        ref="voice_number_id",
        params={
            "sms_url": "http://www.server.com/incomingsms",
            "voice_start": "http://www.server.com/incommingcall",
            "mms_url": "http://www.server.com/incommingmms",
            "sms_replies": "yes",
            "active": "yes, (setting this to no is irreversible)",
        },
        overrides={"active": "yes"},
        note="The active line carries the doc's remark after the value; the value is yes.",
        response=_NUMBER,
    ),
    SeedExample(
        f"{REF} § Get information about one number.",
        "GET",
        "/a1/numbers/{id}",
        ref="voice_number_id",
        response=_NUMBER,
    ),
    # -- recordings --------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Get list of recordings",
        "GET",
        "/a1/recordings",
        response={
            "data": [
                {
                    "created": "2016-02-28T23:54:57.075000",
                    "duration": 1,
                    "id": "c361e5927d2c4d7dcf71a142dc0ec6d9b-r0",
                },
                {
                    "created": "2015-02-24T15:09:08.146000",
                    "duration": 2,
                    "id": "c110cf16e8a0e202b7efb345ba4571d2d-r0",
                },
            ]
        },
    ),
    SeedExample(
        f"{REF} § Get metadata of one recording.",
        "GET",
        "/a1/recordings/{id}",
        ref="recording",
        response={
            "created": "2016-02-28T23:54:57.075000",
            "duration": 15,
            "id": "c361e5927d2c4d7dcf71a142dc0ec6d9b-r0",
        },
    ),
    SeedExample(
        f"{REF} § Get recording soundfile.",
        "GET",
        "/a1/recordings/{id}.wav",
        ref="recording",
        response=None,
    ),
    # -- subaccounts -------------------------------------------------------------------------
    SeedExample(
        f"{REF} § Create new subaccount.",
        "POST",
        "/a1/subaccounts",
        params={"name": "Company XYZ", "usagelimit": "3423432400"},
        response={
            "created": "2014-12-08T13:18:07.625000",
            "id": "af3d05a159669e1951c5301bc6a61bac",
            "name": "This Co2",
            "secret": "D81DEF1B65E19A83DBCEA0BE0D89D082",
            "usagelimit": 9999999999,
        },
    ),
    SeedExample(
        f"{REF} § Get all subaccounts",
        "GET",
        "/a1/subaccounts",
        response={
            "data": [
                _SUBACCOUNT | {"usage": 0, "usagelimit": 67575670000},
                _SUBACCOUNT
                | {
                    "id": "af3d05a159669e1951c5301bc6a61bac2",
                    "name": "This Co2",
                    "usage": 345300,
                    "usagelimit": 345350000,
                },
            ]
        },
    ),
    SeedExample(
        f"{REF} § Update subaccount.",
        "POST",
        "/a1/subaccounts/{id}",
        ref="subaccount",
        params={"name": "Company XYZ", "usagelimit": "3423432400"},
        response=_SUBACCOUNT | {"usagelimit": 9999999999},
    ),
    SeedExample(
        f"{REF} § Get the data about one subaccount.",
        "GET",
        "/a1/subaccounts/{id}",
        ref="subaccount",
        response=_SUBACCOUNT,
    ),
    # -- Allocate a number: the same request from each sample client -------------------------
    SeedExample(
        f"{ALLOC} § Sample code: curl -d",
        "POST",
        "/a1/numbers",
        params=_ALLOCATE_PARAMS,
        send=CURL,
        response=_ALLOCATED,
    ),
    SeedExample(
        f"{ALLOC} § Sample code: Elixir HTTPotion (URI.encode_query body, no Content-Type)",
        "POST",
        "/a1/numbers",
        params=_ALLOCATE_PARAMS,
        send=NO_TYPE,
        response=_ALLOCATED,
    ),
    SeedExample(
        f"{ALLOC} § Sample code: Java Unirest .field(...), PHP http_build_query with "
        "Content-type: application/x-www-form-urlencoded, Python requests data=, Ruby "
        "set_form_data",
        "POST",
        "/a1/numbers",
        params=_ALLOCATE_PARAMS,
        send=FORM,
        response=_ALLOCATED,
    ),
)
