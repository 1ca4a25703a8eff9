"""HTTP routes of identity: sign-in, the session, users, agencies and devices."""

from __future__ import annotations

import uuid

from litestar import Router, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from bluelight.db import Database
from bluelight.identity import Actor, Permission, queries
from bluelight.identity import services as svc
from bluelight.identity.schemas import (
    AgencyRead,
    DeviceRead,
    DeviceRevocation,
    Me,
    PasswordReset,
    RecoveryCodes,
    SecondFactor,
    SecondFactorDue,
    SessionGranted,
    SignIn,
    UserChange,
    UserCreate,
    UserRead,
)
from bluelight.kernel.permissions import PUBLIC, needs

NO_STORE = CacheControlHeader(no_store=True)


# Both steps answer 401 to whatever does not sign in.
SIGN_IN_STEP = {**PUBLIC, "answers": (401,)}


@post(
    "/sign-in",
    opt=SIGN_IN_STEP,
    summary="Sign in, step one: username, password and this device",
    description="Answers with a challenge for the second factor (and, for a user without one, "
    "a new TOTP secret and its QR code to enrol). Every failure answers 401 SIGN_IN_FAILED.",
    status_code=200,
    sync_to_thread=True,
)
def sign_in(
    data: JSONBody[SignIn],
    db: NamedDependency[Database],
    policy: NamedDependency[svc.IdentityPolicy],
) -> SecondFactorDue:
    return svc.start_sign_in(
        db,
        policy,
        username=data.username,
        password=data.password,
        device_id=data.device.id,
        device_name=data.device.name,
    )


@post(
    "/second-factor",
    opt=SIGN_IN_STEP,
    summary="Sign in, step two: a code from the authenticator app (or a recovery code)",
    description="Opens a session: an opaque bearer token bound to the device.",
    status_code=200,
    sync_to_thread=True,
)
def second_factor(
    data: JSONBody[SecondFactor],
    db: NamedDependency[Database],
    policy: NamedDependency[svc.IdentityPolicy],
) -> SessionGranted:
    return svc.finish_sign_in(db, policy, challenge=data.challenge, code=data.code)


@post(
    "/sign-out",
    opt=needs(Permission.SELF),
    summary="End this session now",
    status_code=204,
    sync_to_thread=True,
)
def sign_out(db: NamedDependency[Database], actor: NamedDependency[Actor]) -> None:
    svc.sign_out(db, actor=actor)


@get("/me", opt=needs(Permission.SELF), summary="Who this token acts for", sync_to_thread=True)
def who_am_i(
    db: NamedDependency[Database],
    policy: NamedDependency[svc.IdentityPolicy],
    actor: NamedDependency[Actor],
) -> Me:
    return queries.me(db, policy, actor=actor)


@post(
    "/recovery-codes",
    opt=needs(Permission.SELF),
    summary="New recovery codes (the old ones stop working)",
    status_code=200,
    sync_to_thread=True,
)
def recovery_codes(db: NamedDependency[Database], actor: NamedDependency[Actor]) -> RecoveryCodes:
    return svc.regenerate_recovery_codes(db, actor=actor)


auth_router = Router(
    path="/auth",
    route_handlers=[sign_in, second_factor, sign_out, who_am_i, recovery_codes],
    tags=["Sign-in"],
    cache_control=NO_STORE,
)


@get("/", opt=needs(Permission.USER_READ), summary="Users of my agency", sync_to_thread=True)
def list_users(db: NamedDependency[Database], actor: NamedDependency[Actor]) -> list[UserRead]:
    return queries.list_users(db, actor=actor)


@post("/", opt=needs(Permission.USER_ADMIN), summary="Add a user to my agency", sync_to_thread=True)
def add_user(
    data: JSONBody[UserCreate],
    db: NamedDependency[Database],
    policy: NamedDependency[svc.IdentityPolicy],
    actor: NamedDependency[Actor],
) -> UserRead:
    return svc.create_user(db, policy, data, actor=actor)


@patch(
    "/{user_id:uuid}",
    opt=needs(Permission.USER_ADMIN),
    summary="Change a user's roles, clearance or name, or disable them",
    description="Disabling ends every session of the user at once.",
    sync_to_thread=True,
)
def change_user(
    user_id: FromPath[uuid.UUID],
    data: JSONBody[UserChange],
    db: NamedDependency[Database],
    actor: NamedDependency[Actor],
) -> UserRead:
    return svc.change_user(db, user_id, data, actor=actor)


@post(
    "/{user_id:uuid}/reset",
    opt=needs(Permission.USER_ADMIN),
    summary="Set a new password, clear the second factor, release the lock",
    status_code=200,
    sync_to_thread=True,
)
def reset_user(
    user_id: FromPath[uuid.UUID],
    data: JSONBody[PasswordReset],
    db: NamedDependency[Database],
    policy: NamedDependency[svc.IdentityPolicy],
    actor: NamedDependency[Actor],
) -> UserRead:
    return svc.reset_user(
        db,
        policy,
        user_id,
        password=data.password,
        clear_second_factor=data.clear_second_factor,
        actor=actor,
    )


@post(
    "/{user_id:uuid}/unlock",
    opt=needs(Permission.USER_ADMIN),
    summary="Release a locked account",
    status_code=200,
    sync_to_thread=True,
)
def unlock_user(
    user_id: FromPath[uuid.UUID], db: NamedDependency[Database], actor: NamedDependency[Actor]
) -> UserRead:
    return svc.unlock_user(db, user_id, actor=actor)


users_router = Router(
    path="/users",
    route_handlers=[list_users, add_user, change_user, reset_user, unlock_user],
    tags=["Users"],
    cache_control=NO_STORE,
)


@get("/", opt=needs(Permission.DEVICE_READ), summary="Devices of my agency", sync_to_thread=True)
def list_devices(db: NamedDependency[Database], actor: NamedDependency[Actor]) -> list[DeviceRead]:
    return queries.list_devices(db, actor=actor)


@post(
    "/{device_id:uuid}/revoke",
    opt=needs(Permission.DEVICE_REVOKE),
    summary="Revoke a device: its sessions end, and it is told to wipe its data",
    status_code=200,
    sync_to_thread=True,
)
def revoke_device(
    device_id: FromPath[uuid.UUID],
    data: JSONBody[DeviceRevocation],
    db: NamedDependency[Database],
    actor: NamedDependency[Actor],
) -> DeviceRead:
    return svc.revoke_device(db, device_id, reason=data.reason, actor=actor)


devices_router = Router(
    path="/devices",
    route_handlers=[list_devices, revoke_device],
    tags=["Devices"],
    cache_control=NO_STORE,
)


@get("/", opt=needs(Permission.AGENCY_READ), summary="Agencies", sync_to_thread=True)
def list_agencies(db: NamedDependency[Database]) -> list[AgencyRead]:
    return queries.list_agencies(db)


agencies_router = Router(path="/agencies", route_handlers=[list_agencies], tags=["Agencies"])

identity_routers = [auth_router, users_router, devices_router, agencies_router]
