#!/usr/bin/python3
"""The libraries Frappe itself uses, as oracles for our tests.

Reads a JSON value on stdin, writes a JSON value on stdout:
  fernet-key                         -> a new key (Fernet.generate_key)
  fernet-encrypt KEY  [str...]       -> [token...]
  fernet-decrypt KEY  [token...]     -> [str or null (InvalidToken)...]
  passlib-hash        [[pwd, scheme]]-> [hash...]  scheme: pbkdf2_sha256[:rounds] | argon2[:type]
  passlib-verify      [[pwd, hash]]  -> [bool...]
Runs under /usr/bin/python3 (Debian's python3-cryptography, python3-passlib).
"""
import json
import sys

from cryptography.fernet import Fernet, InvalidToken
from passlib.context import CryptContext
from passlib.hash import argon2, pbkdf2_sha256

# Frappe's own context (frappe/utils/password.py)
passlibctx = CryptContext(schemes=["pbkdf2_sha256", "argon2"])


def main():
    cmd = sys.argv[1]
    if cmd == "fernet-key":
        print(Fernet.generate_key().decode())
        return
    else:
        data = json.load(sys.stdin)
        if cmd == "fernet-encrypt":
            f = Fernet(sys.argv[2].encode())
            out = [f.encrypt(s.encode("utf-8")).decode() for s in data]
        elif cmd == "fernet-decrypt":
            f = Fernet(sys.argv[2].encode())
            out = []
            for t in data:
                try:
                    out.append(f.decrypt(t.encode()).decode("utf-8"))
                except InvalidToken:
                    out.append(None)
        elif cmd == "passlib-hash":
            out = []
            for pwd, scheme in data:
                name, _, param = scheme.partition(":")
                if name == "pbkdf2_sha256":
                    h = pbkdf2_sha256.using(rounds=int(param)) if param else pbkdf2_sha256
                else:
                    h = argon2.using(type=param, memory_cost=8192) if param else argon2
                out.append(h.hash(pwd))
        elif cmd == "passlib-verify":
            out = [passlibctx.verify(pwd, h) for pwd, h in data]
        else:
            sys.exit("unknown command " + cmd)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
