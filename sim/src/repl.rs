//! A MicroPython prompt standing where the modem should be (fault `repl`: a board whose
//! REPL port was opened instead of a board in mirror mode). It echoes what it gets and
//! answers each line as the friendly REPL would: `AT` is a `NameError`, `AT+SMOD?` a
//! `SyntaxError`; it never says `OK` on a line of its own.

/// The banner after a (soft) reset.
pub const BANNER: &str =
    "MicroPython v1.18.2 on 2019-06-10; GPy with ESP32\r\nType \"help()\" for more information.\r\n";
/// The prompt.
pub const PROMPT: &str = ">>> ";

/// The REPL's line editor and evaluator.
#[derive(Debug, Default, Clone)]
pub struct Repl {
    line: Vec<u8>,
    after_cr: bool,
}

/// What the REPL did with one byte.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Bytes it prints.
    pub out: Vec<u8>,
    /// A line it evaluated.
    pub line: Option<String>,
}

impl Repl {
    /// Takes one byte.
    pub fn feed(&mut self, b: u8) -> Step {
        let mut s = Step::default();
        let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
        match b {
            b'\n' if after_cr => {}
            b'\r' | b'\n' => {
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                s.out.extend_from_slice(b"\r\n");
                s.out.extend_from_slice(evaluate(&line).as_bytes());
                s.out.extend_from_slice(PROMPT.as_bytes());
                s.line = Some(line);
            }
            0x03 => {
                self.line.clear();
                s.out.extend_from_slice(b"\r\n");
                s.out.extend_from_slice(PROMPT.as_bytes());
            }
            0x04 if self.line.is_empty() => {
                s.out.extend_from_slice(b"\r\nMPY: soft reboot\r\n");
                s.out.extend_from_slice(BANNER.as_bytes());
                s.out.extend_from_slice(PROMPT.as_bytes());
            }
            0x08 | 0x7f if !self.line.is_empty() => {
                self.line.pop();
                s.out.extend_from_slice(b"\x08 \x08");
            }
            0x20..=0x7e if self.line.len() < 512 => {
                self.line.push(b);
                s.out.push(b);
            }
            _ => {}
        }
        s
    }

    /// What a power cycle of the board prints.
    pub fn boot() -> Vec<u8> {
        format!("{BANNER}{PROMPT}").into_bytes()
    }
}

fn traceback_name(name: &str) -> String {
    format!(
        "Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nNameError: name '{name}' isn't defined\r\n"
    )
}

fn syntax_error(why: &str) -> String {
    format!("Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\nSyntaxError: {why}\r\n")
}

/// Tokens of a line, just enough to tell Python's complaint.
#[derive(Debug, PartialEq)]
enum Tok {
    Name(String),
    Num,
    Str,
    Op(String),
    Bad,
}

fn tokens(line: &str) -> Vec<Tok> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Name(line[s..i].to_string()));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num);
        } else if c == b'"' || c == b'\'' {
            match b[i + 1..].iter().position(|&x| x == c) {
                Some(k) => {
                    i += k + 2;
                    out.push(Tok::Str);
                }
                None => {
                    out.push(Tok::Bad);
                    i = b.len();
                }
            }
        } else if b"+-*/%&|^~<>=!,.()".contains(&c) {
            let two = b.get(i..i + 2).unwrap_or(&[]);
            let op = if [b"==", b"!=", b"<=", b">=", b"**", b"//"]
                .iter()
                .any(|o| o == &two)
            {
                i += 2;
                std::str::from_utf8(two).unwrap_or("").to_string()
            } else {
                i += 1;
                (c as char).to_string()
            };
            out.push(Tok::Op(op));
        } else {
            out.push(Tok::Bad);
            i += 1;
        }
    }
    out
}

const KEYWORDS: [&str; 6] = ["True", "False", "None", "and", "or", "not"];

/// What the REPL prints for one line (before the next prompt).
pub fn evaluate(line: &str) -> String {
    let toks = tokens(line.trim());
    if toks.is_empty() {
        return String::new();
    }
    if toks.contains(&Tok::Bad) {
        return syntax_error("invalid syntax");
    }
    // Two operands in a row, or an operator where an operand must be.
    let mut want_operand = true;
    let mut assign = None;
    for (k, t) in toks.iter().enumerate() {
        match t {
            Tok::Name(_) | Tok::Num | Tok::Str => {
                if !want_operand {
                    return syntax_error("invalid syntax");
                }
                want_operand = false;
            }
            Tok::Op(o) if o == "=" => {
                if want_operand || assign.is_some() {
                    return syntax_error("invalid syntax");
                }
                assign = Some(k);
                want_operand = true;
            }
            Tok::Op(o) if (o == "+" || o == "-" || o == "~" || o == "not") && want_operand => {}
            Tok::Op(o) if o == "," => want_operand = true,
            Tok::Op(_) => {
                if want_operand {
                    return syntax_error("invalid syntax");
                }
                want_operand = true;
            }
            Tok::Bad => return syntax_error("invalid syntax"),
        }
    }
    if want_operand {
        return syntax_error("invalid syntax");
    }
    let value = match assign {
        Some(k) => {
            let simple = k == 1 && matches!(toks[0], Tok::Name(_));
            if !simple {
                return syntax_error("can't assign to expression");
            }
            &toks[k + 1..]
        }
        None => &toks[..],
    };
    for t in value {
        if let Tok::Name(n) = t {
            if !KEYWORDS.contains(&n.as_str()) {
                return traceback_name(n);
            }
        }
    }
    match (assign, value) {
        (None, [Tok::Num]) | (None, [Tok::Str]) => format!("{}\r\n", line.trim().replace('"', "'")),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> String {
        let mut r = Repl::default();
        let out: Vec<u8> = input.iter().flat_map(|&b| r.feed(b).out).collect();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn at_is_a_name_error() {
        let out = run(b"AT\r\n");
        assert_eq!(
            out,
            "AT\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nNameError: name 'AT' isn't defined\r\n>>> "
        );
        assert!(!out.contains("\r\nOK\r\n"));
    }

    #[test]
    fn python_complaints() {
        assert!(evaluate("AT+SMOD?").ends_with("SyntaxError: invalid syntax\r\n"));
        assert!(
            evaluate("AT+SMSWBOOT=3,1").ends_with("SyntaxError: can't assign to expression\r\n")
        );
        assert!(evaluate("AT+SMSTPU=\"ON_THE_FLY\"").contains("can't assign"));
        assert!(evaluate("+++").contains("invalid syntax"));
        assert!(evaluate("ATI1").contains("name 'ATI1' isn't defined"));
        assert!(evaluate("AT!=\"showver\"").contains("name 'AT'"));
        assert!(evaluate("AT^RESET").contains("name 'AT'"));
        assert_eq!(evaluate("x = 1"), "");
        assert_eq!(evaluate("42"), "42\r\n");
        assert_eq!(evaluate("OK"), traceback_name("OK"));
    }

    #[test]
    fn editing_keys() {
        assert_eq!(run(b"A\x7f\r"), "A\x08 \x08\r\n>>> ");
        assert_eq!(run(b"x\x03"), "x\r\n>>> ");
        assert!(run(b"\x04").contains("soft reboot"));
    }
}
