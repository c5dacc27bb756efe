//! Azure Functions custom handler for Azure Communication Services Advanced Messaging events.

pub mod acs;
