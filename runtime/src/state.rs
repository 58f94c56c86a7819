//! Server state handed to tool bodies: a parameter of type `State<T>` receives
//! the `T` registered with `Server::with_state`, and a parameter of type
//! `Principal` receives the verified caller. Neither is a JSON argument.

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
    states: Arc<States>,
}

impl Context {
    pub(crate) fn new(caller: Principal, states: Arc<States>) -> Self {
        Self { caller, states }
    }

    /// The verified caller.
    pub fn caller(&self) -> Principal {
        self.caller.clone()
    }

    /// The registered state of type `T`.
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<State<T>, Reject> {
        self.states.get::<T>()
    }
}
