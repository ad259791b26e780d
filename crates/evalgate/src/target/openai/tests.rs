use super::*;

/// The reference sample of a real chat completion with a tool call.
#[test]
fn reads_the_reference_tool_call_completion() {
    let json: Value = serde_json::from_str(include_str!(
        "../../../../../tests/fixtures/openai/chat_completion_tool_calls.json"
    ))
    .unwrap();
    let o = observe_completion(&json).unwrap();
    assert_eq!(
        o.decisions,
        vec![
            Decision::new("tool", "get_current_weather"),
            Decision::new("finish_reason", "tool_calls")
        ]
    );
    assert_eq!(o.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(o.usage.unwrap().input_tokens, 82);
    assert_eq!(o.usage.unwrap().output_tokens, 17);
    assert_eq!(o.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(o.refusal, None);
    assert_eq!(o.output.text, "");
}

#[test]
fn a_refusal_is_a_decision_before_how_the_model_stopped() {
    let json = serde_json::json!({"choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]});
    let o = observe_completion(&json).unwrap();
    let names: Vec<String> = o.decisions.iter().map(|d| d.to_string()).collect();
    assert_eq!(names, ["refusal.refused", "finish_reason.stop"]);
    assert_eq!(o.output.text, "I can't help with that.");
}

/// The chunks of an SSE text assembled, and whether each event carried a token.
fn assemble(stream: &str) -> Result<(Value, Vec<bool>), Failure> {
    let mut events = std::collections::VecDeque::new();
    sse::SseParser::default().feed(stream.as_bytes(), Instant::now(), &mut events);
    let mut assembly = ChunkAssembly::default();
    let mut tokens = Vec::new();
    for event in events.iter().filter(|e| !e.is_done()) {
        tokens.push(assembly.add(&serde_json::from_str(&event.data).unwrap())?);
    }
    Ok((assembly.into_completion(), tokens))
}

/// The reference stream observes as the reference completion it streams.
#[test]
fn the_reference_stream_observes_as_its_completion() {
    let (completion, tokens) = assemble(include_str!(
        "../../../../../tests/fixtures/openai/chat_completion_stream_tool_calls.sse"
    ))
    .unwrap();
    assert_eq!(tokens, [true, true, true, false]);
    assert_eq!(
        completion.pointer("/choices/0/message/tool_calls/0"),
        Some(&json!({"id": "call_abc123", "type": "function", "function":
            {"name": "get_current_weather", "arguments": "{\"location\": \"Boston, MA\"}"}}))
    );
    let streamed = observe_completion(&completion).unwrap();
    let whole = observe_completion(
        &serde_json::from_str(include_str!(
            "../../../../../tests/fixtures/openai/chat_completion_tool_calls.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(streamed.decisions, whole.decisions);
    assert_eq!(streamed.finish_reason, whole.finish_reason);
    assert_eq!(streamed.model, whole.model);
    assert_eq!(streamed.envelope["system_fingerprint"], "fp_44709d6fcb");
    assert_eq!(streamed.output.text, whole.output.text);
}

#[test]
fn deltas_concatenate_and_parallel_tool_calls_merge_by_index() {
    let chunk = |delta: Value| {
        format!(
            "data: {}\n\n",
            json!({"model": "m-1", "choices": [{"index": 0, "delta": delta}]})
        )
    };
    let call = |index: u64, id: &str, name: &str| {
        json!({"index": index, "id": id, "type": "function",
            "function": {"name": name, "arguments": ""}})
    };
    let args = |index: u64, piece: &str| json!({"index": index, "function": {"arguments": piece}});
    let stream = [
        chunk(json!({"role": "assistant", "content": ""})),
        chunk(json!({"content": "Hel"})),
        chunk(json!({"content": "lo"})),
        chunk(json!({"tool_calls": [call(0, "c0", "lookup_order")]})),
        chunk(json!({"tool_calls": [call(1, "c1", "issue_refund")]})),
        chunk(json!({"tool_calls": [args(1, "{\"id\":"), args(0, "{}")]})),
        chunk(json!({"tool_calls": [args(1, "7}")]})),
        "data: {\"choices\": [{\"index\": 0, \"delta\": {}, \"finish_reason\": \"tool_calls\"}]}\n\n".into(),
        "data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 9, \"completion_tokens\": 4}}\n\n".into(),
        "data: [DONE]\n\n".into(),
    ]
    .concat();
    let (completion, tokens) = assemble(&stream).unwrap();
    assert_eq!(
        tokens,
        [false, true, true, true, true, true, true, false, false]
    );
    let calls = completion.pointer("/choices/0/message/tool_calls").unwrap();
    assert_eq!(
        calls[0]["function"],
        json!({"name": "lookup_order", "arguments": "{}"})
    );
    assert_eq!(
        calls[1]["function"],
        json!({"name": "issue_refund", "arguments": "{\"id\":7}"})
    );
    let o = observe_completion(&completion).unwrap();
    assert_eq!(o.output.text, "Hello");
    let names: Vec<String> = o.decisions.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        names,
        [
            "tool.lookup_order",
            "tool.issue_refund",
            "finish_reason.tool_calls"
        ]
    );
    assert_eq!(
        (
            o.usage.unwrap().input_tokens,
            o.usage.unwrap().output_tokens
        ),
        (9, 4)
    );
    assert_eq!(o.model.as_deref(), Some("m-1"));
}

#[test]
fn a_streamed_refusal_is_a_refusal() {
    let (completion, _) = assemble(concat!(
        "data: {\"choices\": [{\"index\": 0, \"delta\": {\"refusal\": \"I can't \"}}]}\n\n",
        "data: {\"choices\": [{\"index\": 0, \"delta\": {\"refusal\": \"help.\"}, \"finish_reason\": \"stop\"}]}\n\n",
    ))
    .unwrap();
    let o = observe_completion(&completion).unwrap();
    assert_eq!(
        (o.refusal, o.output.text.as_str()),
        (Some(true), "I can't help.")
    );
}

#[test]
fn an_error_event_fails_with_its_message_and_no_choice_is_malformed() {
    let e = assemble("data: {\"error\": {\"message\": \"The server had an error\", \"type\": \"server_error\"}}\n\n")
        .unwrap_err();
    assert_eq!(
        e.reason,
        "the stream carried an error: The server had an error"
    );
    let (completion, _) = assemble("data: {\"choices\": []}\n\n").unwrap();
    let e = observe_completion(&completion).unwrap_err();
    assert!(e.reason.contains("no choices[0]"), "{}", e.reason);
}
