//! Generates many distinct scoring rules so that the component is about 2 MB of real code.

use std::fmt::Write;

fn main() {
    let n = 3500;
    let mut s = String::new();
    for i in 0..n {
        let (a, b, c) = (i * 7 % 97 + 1, i * 13 % 89 + 2, i * 31 % 83 + 3);
        writeln!(
            s,
            "fn rule_{i}(x: i64) -> String {{ let y = (x.wrapping_mul({a}) ^ {b}).rotate_left({c} % 63) % {m}; \
             match y % 5 {{ 0 => format!(\"r{i} S {{}}\", y), 1 => format!(\"r{i} A {{}} {{}}\", y, x), \
             2 => format!(\"r{i} B {{:x}}\", y), 3 => format!(\"r{i} C {{:>8}}\", y), _ => format!(\"r{i} D {{:?}}\", (y, x)) }} }}",
            m = 1000 + i
        )
        .unwrap();
    }
    write!(s, "pub static RULES: [fn(i64) -> String; {n}] = [").unwrap();
    for i in 0..n {
        write!(s, "rule_{i},").unwrap();
    }
    s.push_str("];\n");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("rules.rs");
    std::fs::write(out, s).unwrap();
}
