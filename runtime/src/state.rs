//! Server state handed to tool bodies: a parameter of type `State<T>` receives
//! the `T` registered with `Server::with_state`, and a parameter of type
//! `Principal` receives the verified caller, and one of type `Grant` what
//! authorization granted the call. None is a JSON argument.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use crate::auth::Principal;
use crate::reject::{Gate, Reject};

/// Shared state of type `T`, registered once per server.
#[derive(Debug)]
pub struct State<T>(Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The states of a server, by type.
#[derive(Clone, Default)]
pub struct States(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl std::fmt::Debug for States {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("States")
            .field("count", &self.0.len())
            .finish()
    }
}

impl States {
    /// Registers `value`, replacing any earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// Whether a value of this type is registered.
    pub fn contains(&self, type_id: std::any::TypeId) -> bool {
        self.0.contains_key(&type_id)
    }

    /// The registered `T`; a tool whose state is missing fails closed.
    pub fn get<T: Send + Sync + 'static>(&self) -> Result<State<T>, Reject> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|any| any.clone().downcast::<T>().ok())
            .map(State)
            .ok_or_else(|| {
                Reject::at(
                    Gate::Execute,
                    None,
                    format!(
                        "server state `{}` is not configured",
                        std::any::type_name::<T>()
                    ),
                )
            })
    }
}

/// What a tool body may receive besides its arguments.
#[derive(Debug, Clone)]
pub struct Context {
    caller: Principal,
    grant: Option<Grant>,
    states: Arc<States>,
    /// This session's own values, looked up before the server's.
    session: Option<Arc<States>>,
}

impl Context {
    pub(crate) fn new(caller: Principal, states: Arc<States>) -> Self {
        Self {
            caller,
            grant: None,
            states,
            session: None,
        }
    }

    pub(crate) fn with_session(mut self, session: Option<Arc<States>>) -> Self {
        self.session = session;
        self
    }

    pub(crate) fn with_grant(mut self, grant: Option<Grant>) -> Self {
        self.grant = grant;
        self
    }

    /// What authorization granted this call; a tool without a scope has none,
    /// and a body that asks for one fails closed.
    pub fn grant(&self) -> Result<Grant, Reject> {
        self.grant.clone().ok_or_else(|| {
            Reject::at(
                Gate::Owner,
                None,
                "the call carries no grant: the tool has no scope",
            )
        })
    }

    /// The verified caller.
    pub fn caller(&self) -> Principal {
        self.caller.clone()
    }

    /// The registered state of type `T`.
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<State<T>, Reject> {
        match self.session.as_ref().and_then(|s| s.get::<T>().ok()) {
            Some(own) => Ok(own),
            None => self.states.get::<T>(),
        }
    }
}

/// Which objects of a resource a grant reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Every object of the resource.
    Any,
    /// Only the objects whose owner is the caller.
    Own,
}

impl Reach {
    /// The policy value: `any` or `own`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Any => "any",
            Reach::Own => "own",
        }
    }
}

/// What authorization granted one call, handed to a tool that takes it: the
/// caller, the action, and how far the caller's role reaches. A body that
/// touches an object calls [`Grant::check`] with the object's owner, or limits
/// its query to [`Grant::owner`] and answers [`Grant::refusal`] when that finds
/// nothing the caller may touch.
#[derive(Debug, Clone)]
pub struct Grant {
    subject: String,
    resource: &'static str,
    action: &'static str,
    reach: Reach,
}

impl Grant {
    #[cfg_attr(not(feature = "rbac"), allow(dead_code))]
    pub(crate) fn new(
        subject: &str,
        resource: &'static str,
        action: &'static str,
        reach: Reach,
    ) -> Self {
        Self {
            subject: subject.to_owned(),
            resource,
            action,
            reach,
        }
    }

    /// The caller's subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// How far the caller's role reaches.
    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// The owner every object this call touches must have: `None` when the
    /// role reaches any object, the caller's subject when only its own.
    pub fn owner(&self) -> Option<&str> {
        match self.reach {
            Reach::Any => None,
            Reach::Own => Some(&self.subject),
        }
    }

    /// Admits an object owned by `owner`, or refuses at the owner gate.
    pub fn check(&self, owner: &str) -> Result<(), Reject> {
        match self.owner() {
            Some(caller) if caller != owner => Err(self.refusal()),
            _ => Ok(()),
        }
    }

    /// The refusal for an object outside the grant.
    pub fn refusal(&self) -> Reject {
        Reject::at(
            Gate::Owner,
            None,
            format!(
                "role permits {} on {} only for objects the caller owns",
                self.action, self.resource
            ),
        )
    }
}
