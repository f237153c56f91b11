"""Independent implementation of the event message encryption (SPEC §5),
written from the specification with Python's `cryptography` package; used by
tests/crypto_interop.rs to check the Rust implementation against it.

Usage:
  msgcrypto.py encrypt KEY CLIENT_ID RANDOM_HEX MESSAGE      -> Encrypt
  msgcrypto.py open KEY TOKEN CLIENT_ID   (one envelope JSON per stdin line)
                                           -> one JSON string (the message) per line
  msgcrypto.py sign TOKEN TIMESTAMP NONCE ENCRYPT            -> MsgSignature
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def key_of(encoding_aes_key):
    # Decode leniently: clear the trailing bits that a 43-character key may set.
    raw = encoding_aes_key + "="
    bits = "".join(
        format("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".index(c), "06b")
        for c in raw.rstrip("=")
    )
    return int(bits[:256], 2).to_bytes(32, "big")


def encrypt(encoding_aes_key, client_id, random, message):
    key = key_of(encoding_aes_key)
    plain = random + struct.pack(">I", len(message)) + message + client_id
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt(encoding_aes_key, client_id, encrypted):
    key = key_of(encoding_aes_key)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad, "bad padding"
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message, tail = plain[20 : 20 + length], plain[20 + length :]
    assert tail == client_id, "wrong client id %r" % tail
    return message


def sign(token, timestamp, nonce, encrypted):
    parts = sorted([token.encode(), timestamp.encode(), nonce.encode(), encrypted.encode()])
    return hashlib.sha1(b"".join(parts)).hexdigest()


def main():
    cmd = sys.argv[1]
    if cmd == "encrypt":
        _, _, key, client, random_hex, message = sys.argv
        print(encrypt(key, client.encode(), bytes.fromhex(random_hex), message.encode()))
    elif cmd == "sign":
        _, _, token, ts, nonce, enc = sys.argv
        print(sign(token, ts, nonce, enc))
    elif cmd == "open":
        _, _, key, token, client = sys.argv
        for line in sys.stdin:
            env = json.loads(line)
            if sign(token, env["TimeStamp"], env["Nonce"], env["Encrypt"]) != env["MsgSignature"]:
                print("signature mismatch", file=sys.stderr)
                sys.exit(2)
            message = decrypt(key, client.encode(), env["Encrypt"]).decode()
            print(json.dumps(message, ensure_ascii=False))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
