"""Routes of a line's voicemail: settings, greeting upload, messages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.errors import NotFound
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import PageParams, page_params
from voipdesk.core.platform import Platform
from voipdesk.telephony import errors, rules
from voipdesk.telephony.actions import voicemail
from voipdesk.telephony.api.schemas import (
    MessageIn,
    MessageOut,
    MessagePage,
    VoicemailIn,
    VoicemailOut,
    path_number,
)

router = APIRouter()
VOICEMAIL = "/telephony/{group}/lines/{number}/voicemail"
AUDIO = {"content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}}


def voicemail_out(view: voicemail.VoicemailView) -> VoicemailOut:
    return VoicemailOut(**view.__dict__)


def message_out(group: str, number: str, message: voicemail.MessageView) -> MessageOut:
    return MessageOut(
        id=message.id,
        caller=message.caller,
        received_at=message.received_at,
        duration_seconds=message.duration_seconds,
        read=message.read,
        audio_url=(
            f"/api/v1/telephony/{group}/lines/{quote(path_number(number))}"
            f"/voicemail/messages/{message.id}/audio"
        ),
    )


@router.get(VOICEMAIL, response_model=VoicemailOut)
def get_voicemail(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> VoicemailOut:
    with platform.session() as session:
        return voicemail_out(
            voicemail.get_voicemail(session, account.id, group, path_number(number))
        )


@router.patch(
    VOICEMAIL,
    response_model=VoicemailOut,
    summary="On/off, greeting, PIN (4-8 digits, not trivial), e-mail notification",
)
def update_voicemail(
    group: str,
    number: str,
    body: VoicemailIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> VoicemailOut:
    with platform.transaction() as session:
        view = voicemail.update_voicemail(
            session,
            platform,
            account.id,
            group,
            path_number(number),
            body.model_dump(exclude_unset=True),
        )
        return voicemail_out(view)


@router.put(
    f"{VOICEMAIL}/greeting",
    response_model=VoicemailOut,
    summary="Upload the greeting: the body is a WAV or MP3 (Content-Type audio/wav or "
    "audio/mpeg), at most 5 MB and 120 s; it is converted to WAV 8 kHz mono",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "audio/wav": {"schema": {"type": "string", "format": "binary"}},
                "audio/mpeg": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_greeting(
    group: str,
    number: str,
    request: Request,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> VoicemailOut:
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > rules.GREETING_MAX_BYTES:
            raise errors.GreetingTooLarge(maximum_mb=rules.GREETING_MAX_BYTES // 1048576)
    content_type = request.headers.get("content-type", "")

    def store() -> VoicemailOut:
        with platform.transaction() as session:
            view = voicemail.upload_greeting(
                session,
                platform,
                account.id,
                group,
                path_number(number),
                bytes(data),
                content_type,
            )
            return voicemail_out(view)

    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(store)


@router.get(f"{VOICEMAIL}/greeting", response_class=Response, responses={200: AUDIO})
def get_greeting(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.session() as session:
        audio = voicemail.greeting_audio(session, platform, account.id, group, path_number(number))
    if not audio:
        raise NotFound()
    return Response(audio, media_type="audio/wav")


@router.get(f"{VOICEMAIL}/messages", response_model=MessagePage, summary="Newest first")
def list_messages(
    group: str,
    number: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> MessagePage:
    with platform.session() as session:
        items, next_cursor = voicemail.list_messages(
            session, account.id, group, path_number(number), page
        )
    return MessagePage(
        items=[message_out(group, number, m) for m in items], next_cursor=next_cursor
    )


@router.get(f"{VOICEMAIL}/messages/{{message_id}}", response_model=MessageOut)
def get_message(
    group: str,
    number: str,
    message_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> MessageOut:
    with platform.session() as session:
        message = voicemail.get_message(session, account.id, group, path_number(number), message_id)
    return message_out(group, number, message)


@router.get(
    f"{VOICEMAIL}/messages/{{message_id}}/audio",
    response_class=Response,
    responses={200: AUDIO},
    summary="The recording (add ?download=1 to save it as a file)",
)
def download_voicemail_message(
    group: str,
    number: str,
    message_id: str,
    download: bool = False,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.session() as session:
        audio, content_type = voicemail.message_audio(
            session, platform, account.id, group, path_number(number), message_id
        )
    headers = {"Content-Disposition": f'attachment; filename="voicemail-{message_id}.wav"'}
    return Response(audio, media_type=content_type, headers=headers if download else None)


@router.patch(f"{VOICEMAIL}/messages/{{message_id}}", response_model=MessageOut)
def update_voicemail_message(
    group: str,
    number: str,
    message_id: str,
    body: MessageIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> MessageOut:
    with platform.transaction() as session:
        message = voicemail.mark_message(
            session, platform, account.id, group, path_number(number), message_id, body.read
        )
    return message_out(group, number, message)


@router.delete(f"{VOICEMAIL}/messages/{{message_id}}", status_code=204)
def delete_message(
    group: str,
    number: str,
    message_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        voicemail.delete_message(
            session, platform, account.id, group, path_number(number), message_id
        )
    return Response(status_code=204)
