//! Any bytes as the body of a host invocation: the answer is always one of the defined outcomes,
//! a JSON object, and the event is either handed to business logic or kept as poison.

#![no_main]

use amh::invocation;
use amh_fuzz::{INVOCATION_ID, check_answer, dispatcher, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    // Handle the bytes as one invocation.
    let dispatcher = dispatcher();
    let before = dispatcher.logic().calls();
    let answer = runtime().block_on(invocation::handle(dispatcher, INVOCATION_ID, body));

    // Check the answer against what business logic saw.
    check_answer(&answer, dispatcher.logic().calls() - before);
});
