//! The Rust message crypto against an independent Python implementation
//! (`tests/python/msgcrypto.py`, Python's `cryptography` package): a message
//! sealed here opens there, and one encrypted there decrypts here, for many
//! messages of different lengths (every padding length 1..=32 occurs).

use smartship_api::crypto::{Envelope, MsgCrypto};
use std::io::Write;
use std::process::{Command, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/msgcrypto.py");
const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const TOKEN: &str = "tok3n";
const CLIENT: &str = "tp-client-中文";

fn python(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn message(n: usize) -> String {
    let reason: String = "名称过长".chars().cycle().take(n).collect();
    format!(
        r#"{{"appId":1452365,"tpAppId":17328232,"event":"PACKAGE_AUDIT_FAIL","reason":"{reason}"}}"#
    )
}

#[test]
fn rust_sealed_messages_open_in_python() {
    let c = MsgCrypto::new(KEY, TOKEN, CLIENT).unwrap();
    let mut input = String::new();
    let mut expected = Vec::new();
    for n in 0..40 {
        let msg = message(n);
        let random: [u8; 16] = std::array::from_fn(|i| (i * 7 + n) as u8);
        let env = c.seal(msg.as_bytes(), "1700000000", &format!("n{n}"), random);
        input.push_str(&serde_json::to_string(&env).unwrap());
        input.push('\n');
        expected.push(msg);
    }
    let out = python(&["open", KEY, TOKEN, CLIENT], &input);
    let opened: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(opened, expected);
}

#[test]
fn python_encrypted_messages_decrypt_in_rust() {
    let c = MsgCrypto::new(KEY, TOKEN, CLIENT).unwrap();
    for n in [0, 1, 7, 13, 31] {
        let msg = message(n);
        let random = "00112233445566778899aabbccddeeff";
        let enc = python(&["encrypt", KEY, CLIENT, random, &msg], "");
        let enc = enc.trim();
        let random_bytes: [u8; 16] = hex::decode(random).unwrap().try_into().unwrap();
        assert_eq!(
            c.encrypt(msg.as_bytes(), random_bytes),
            enc,
            "same ciphertext"
        );
        let sig = python(&["sign", TOKEN, "1700000001", "abc", enc], "");
        let env = Envelope {
            nonce: "abc".into(),
            timestamp: "1700000001".into(),
            encrypt: enc.to_owned(),
            msg_signature: sig.trim().to_owned(),
        };
        assert_eq!(c.open(&env).unwrap(), msg.as_bytes());
    }
}
