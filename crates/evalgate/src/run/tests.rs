use super::sample::memory_within_input;
use crate::observation::{Message, Observation, Request, Role};

#[test]
fn memory_turns_go_up_from_one_to_the_user_messages() {
    let user = |text: &str| Message {
        role: Role::User,
        content: text.into(),
    };
    let assistant = Message {
        role: Role::Assistant,
        content: "ok".into(),
    };
    let request = Request::new("c", 0, vec![user("a"), assistant, user("b")]);
    let check = |o: Observation| memory_within_input(o, &request);
    let ok = Observation::new("x")
        .with_memory(1, ["a"])
        .with_memory(2, ["a", "b"]);
    assert!(check(ok).is_ok());
    for bad in [
        Observation::new("x").with_memory(0, ["a"]),
        Observation::new("x").with_memory(3, ["a"]),
        Observation::new("x")
            .with_memory(2, ["a"])
            .with_memory(1, ["a"]),
        Observation::new("x")
            .with_memory(1, ["a"])
            .with_memory(1, ["b"]),
    ] {
        let e = check(bad).unwrap_err();
        assert!(
            e.contains("turns go up from 1 to the input's 2 user message(s)"),
            "{e}"
        );
    }
}
