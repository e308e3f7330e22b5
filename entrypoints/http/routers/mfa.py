"""/users/me/mfa: the caller's second factor (TOTP, RFC 6238) and recovery codes."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from application.disable_second_factor import DisableSecondFactor, SecondFactorProof
from application.enrol_totp import ConfirmTotpEnrolment, StartTotpEnrolment
from application.regenerate_recovery_codes import RegenerateRecoveryCodes
from application.second_factor import RECOVERY_CODE_COUNT
from entrypoints.container import Container
from entrypoints.http.dependencies import CurrentCaller, client_address
from entrypoints.http.injection import provided
from entrypoints.http.schemas import RequestModel, not_null

TAG = {
    "name": "second factor",
    "description": "Two-step login: a TOTP authenticator app (RFC 6238) and recovery codes.",
}
router = APIRouter(prefix="/users/me/mfa", tags=[TAG["name"]])

TOTP_CODE_PATTERN = r"^[0-9]{6}$"
RECOVERY_CODE_PATTERN = r"^[A-Za-z0-9 -]{1,64}$"
TotpCode = Annotated[
    str,
    StringConstraints(min_length=6, max_length=6, pattern=TOTP_CODE_PATTERN),
    Field(description="The 6 digits the authenticator app shows now.", examples=["123456"]),
]
RecoveryCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=RECOVERY_CODE_PATTERN),
    Field(
        description="One of the recovery codes (case and hyphens do not matter).",
        examples=["k3m9-x2qa-7hdp-wv4n"],
    ),
]
# Optional but never null: the schema says so (a plain string), the validator enforces it.
OptionalTotpCode = Annotated[
    TotpCode | None,
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 6,
            "maxLength": 6,
            "pattern": TOTP_CODE_PATTERN,
            "description": "The 6 digits the authenticator app shows now.",
            "examples": ["123456"],
        }
    ),
]
OptionalRecoveryCode = Annotated[
    RecoveryCode | None,
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": RECOVERY_CODE_PATTERN,
            "description": "One of the recovery codes (case and hyphens do not matter).",
            "examples": ["k3m9-x2qa-7hdp-wv4n"],
        }
    ),
]
# Exactly one of the two: the schema says so, the validator enforces it.
ONE_OF_CODE_OR_RECOVERY_CODE: Any = [
    {"required": ["code"]},
    {"required": ["recovery_code"]},
]


def exactly_one_code(code: str | None, recovery_code: str | None) -> None:
    if (code is None) == (recovery_code is None):
        raise ValueError("send exactly one of code and recovery_code")


class CodeBody(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "123456"}]})

    code: TotpCode


class CodeOrRecoveryCode(RequestModel):
    """A code from the app, or one of the recovery codes: exactly one of the two."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "123456"}], "oneOf": ONE_OF_CODE_OR_RECOVERY_CODE}
    )

    code: OptionalTotpCode = None
    recovery_code: OptionalRecoveryCode = None

    _present_fields_not_null = field_validator("code", "recovery_code")(not_null)

    @model_validator(mode="after")
    def _exactly_one(self) -> "CodeOrRecoveryCode":
        exactly_one_code(self.code, self.recovery_code)
        return self


class TotpEnrolmentOut(BaseModel):
    model_config = ConfigDict(title="TotpEnrolment")

    secret: str = Field(
        min_length=32,
        max_length=32,
        pattern=r"^[A-Z2-7]{32}$",
        description="The base32 secret (160 bits), to type into an authenticator app; shown "
        "this once.",
    )
    otpauth_uri: str = Field(
        max_length=1000,
        pattern=r"^otpauth://totp/",
        description="The same as an `otpauth://totp/` URI (issuer users-items, 6 digits, "
        "30 s, SHA-1): show it as a QR code.",
    )


class NewRecoveryCodes(BaseModel):
    recovery_codes: list[
        Annotated[
            str, Field(min_length=19, max_length=19, pattern=r"^[0-9a-z]{4}(-[0-9a-z]{4}){3}$")
        ]
    ] = Field(
        min_length=RECOVERY_CODE_COUNT,
        max_length=RECOVERY_CODE_COUNT,
        description="Each works once in place of a code; shown this once: keep them safe.",
    )


def _codes(codes: Sequence[str]) -> NewRecoveryCodes:
    return NewRecoveryCodes(recovery_codes=list(codes))


@router.post(
    "/totp",
    operation_id="start_totp_enrolment",
    summary="Start turning the second factor on: a new TOTP secret (needs a fresh login)",
)
async def start_totp_enrolment(
    caller: CurrentCaller,
    start: Annotated[StartTotpEnrolment, provided(Container.start_totp_enrolment)],
) -> TotpEnrolmentOut:
    """Nothing is on until `POST /users/me/mfa/totp/confirm` gets a code of this secret;
    asking again replaces a secret that was never confirmed."""
    enrolment = await start.execute(caller)
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post(
    "/totp/confirm",
    operation_id="confirm_totp_enrolment",
    summary="Turn the second factor on with a code from the app; returns 10 recovery codes",
)
async def confirm_totp_enrolment(
    body: CodeBody,
    caller: CurrentCaller,
    confirm: Annotated[ConfirmTotpEnrolment, provided(Container.confirm_totp_enrolment)],
) -> NewRecoveryCodes:
    """Every other session of the caller ends; a notice email is queued."""
    return _codes(await confirm.execute(caller, body.code))


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="disable_second_factor",
    summary="Turn the second factor off, with a code or a recovery code (needs a fresh login)",
)
async def disable_second_factor(
    body: CodeOrRecoveryCode,
    request: Request,
    caller: CurrentCaller,
    disable: Annotated[DisableSecondFactor, provided(Container.disable_second_factor)],
) -> Response:
    """A fresh login is one that passed both factors. A wrong code counts as a failed login."""
    await disable.execute(
        caller,
        SecondFactorProof(
            code=body.code,
            recovery_code=body.recovery_code,
            client_address=client_address(request),
        ),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/recovery-codes",
    operation_id="regenerate_recovery_codes",
    summary="New recovery codes, with a code from the app; the older ones stop working",
)
async def regenerate_recovery_codes(
    body: CodeBody,
    request: Request,
    caller: CurrentCaller,
    regenerate: Annotated[RegenerateRecoveryCodes, provided(Container.regenerate_recovery_codes)],
) -> NewRecoveryCodes:
    """Needs a fresh login (both factors). A wrong code counts as a failed login."""
    codes = await regenerate.execute(
        caller, SecondFactorProof(code=body.code, client_address=client_address(request))
    )
    return _codes(codes)
