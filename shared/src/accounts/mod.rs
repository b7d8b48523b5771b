//! Accounts (SPEC §3): register, login (password or signature), refresh, logout, and the
//! user's own profile (query, update, delete).
//!
//! Passwords are hashed with argon2id on the blocking pool, at most a few at a time (each hash
//! takes ~19 MiB and tens of milliseconds of CPU, so an unbounded flood of logins must queue, not
//! exhaust memory). A failed login says nothing about whether the username exists, and takes
//! as long either way. Failed logins are counted in the store (so the limits hold across Lambda
//! instances) per source address, per username from that address, and per username from every
//! address; registrations per source address and in all. Past a limit the attempts it covers
//! are 429 until the window ends, a correct password included.
//!
//! Sessions: every token names its session (`sid`) and the user's session generation. `logout`
//! ends one session (its refresh tokens are refused from then on), `logout {all}` and
//! `deleteUser` bump the generation (every earlier refresh token is refused). Both are checked
//! where a session is renewed (`refresh`, `token`) and wherever a vendor credential or URL is
//! signed ([`crate::room_change::standing`], read in the same one read as the endpoint's own), and nowhere else: an
//! ordinary call that signs nothing costs no read, and its access token lives out its
//! `ACCESS_TOKEN_TTL_SECONDS`.
//!
//! The files: [`login`] (register, login, signature), [`jump`] (the desktop pusher's sign-in
//! link), [`throttle`] (the attempts' counters),
//! [`sessions`] (the token pair, refresh, renew, logout), [`users`] (the profile and the
//! account's closing).
//!
//! Never here: whether a session stands or a body's `user_id` is the caller's (every feature
//! asks those: `room_change`), or a room's rule (closing an account ends its rooms through
//! `rooms`).

pub mod jump;
pub mod login;
pub mod sessions;
pub mod throttle;
pub mod users;

use crate::endpoint::Visitor;
pub use jump::{
    AuthTokenRequest, AuthTokenResponse, JUMP_TOKEN_TTL_SECS, JumpUrlRequest, JumpUrlResponse,
    LIVE_JUMP_NEEDS, LiveJump, LiveJumpStore, live_jump_url, verify_auth_token,
};
pub use login::{
    LOGIN_NEEDS, Login, LoginRequest, LoginStore, REGISTER_NEEDS, Register, RegisterRequest,
    RegisterStore, SIGNATURE_MAX_SKEW_SECS, SIGNATURE_NEEDS, SignatureLogin, SignatureRequest,
    SignatureStore, login, login_signature, register, signature,
};
pub(crate) use sessions::issue_pair;
pub use sessions::{
    AuthResponse, LOGOUT_NEEDS, Logout, LogoutRequest, LogoutResponse, LogoutStore, REFRESH_NEEDS,
    Refresh, RefreshRequest, RefreshStore, logout, refresh, renew,
};
pub use throttle::{
    MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USERNAME_PER_ADDRESS, THROTTLE_WINDOW_SECS,
};
pub use users::{
    DELETE_USER_NEEDS, DeleteUser, DeleteUserResponse, DeleteUserStore, UPDATE_USER_NEEDS,
    USER_QUERY_NEEDS, UpdateUser, UpdateUserRequest, UpdateUserStore, User, UserInfo,
    UserQueryStore, UserRequest, delete_user, update_user, user,
};

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Register>();
    v.visit::<Login>();
    v.visit::<Refresh>();
    v.visit::<LiveJump>();
    v.visit::<SignatureLogin>();
    v.visit::<Logout>();
    v.visit::<User>();
    v.visit::<UpdateUser>();
    v.visit::<DeleteUser>();
}
