//! Plain explanations of the WhatsApp error codes that failed deliveries carry most often.
//!
//! The codes are WhatsApp's (Cloud API), passed through by ACS in `error.channelCode`.

/// A plain explanation of a WhatsApp error code, when it is a common one.
pub fn explain(code: &str) -> Option<&'static str> {
    let text = match code {
        "131026" => {
            "undeliverable: the recipient's number is not on WhatsApp, or their app is too old \
             or has not accepted the current terms"
        }
        "131047" => {
            "outside the 24-hour window: more than 24 hours passed since the customer's last \
             message, so only a template message can be sent"
        }
        "131051" => "unsupported message type: WhatsApp does not support this kind of message",
        "131052" => "media download failed: WhatsApp could not download the media sent",
        "131053" => "media upload failed: the media could not be uploaded (type or size)",
        "130429" => "rate limit: the phone number's throughput limit was reached; slow down",
        "131048" => {
            "spam rate limit: too many messages were blocked or reported by recipients recently"
        }
        "131056" => {
            "pair rate limit: too many messages to the same recipient in a short time; wait \
             before sending to them again"
        }
        "131049" => {
            "not delivered to keep engagement healthy: WhatsApp limits marketing messages per \
             recipient"
        }
        "131050" => "the recipient has stopped marketing messages from this business",
        "131031" => "the business account is locked or restricted",
        "131042" => "a payment problem on the business account",
        "131021" => "the recipient is the sender's own number",
        "132000" => "template problem: the number of parameters does not match the template",
        "132001" => {
            "template problem: the template does not exist in that language, or is not approved"
        }
        "132005" => "template problem: the text with its parameters is too long",
        "132007" => "template problem: the content breaks WhatsApp's policy",
        "132012" => "template problem: a parameter has the wrong format",
        "132015" => "template problem: the template is paused for low quality",
        "132016" => "template problem: the template is disabled for low quality",
        "131000" | "1" | "2" => "a temporary or unknown error on WhatsApp's side",
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::explain;

    /// The codes the handler's users meet most have explanations; others have none.
    #[test]
    fn common_codes_are_explained() {
        for code in [
            "131026", "131047", "131051", "130429", "131056", "132001", "132015",
        ] {
            assert!(explain(code).is_some(), "{code}");
        }
        assert!(explain("131047").is_some_and(|text| text.contains("24-hour")));
        assert_eq!(explain("999999"), None);
    }
}
