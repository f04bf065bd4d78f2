//! A look at a plugin file's ELF header before the dynamic loader maps it: a truncated file can
//! pass `dlopen` and then crash the process with SIGBUS when a page past its end is touched.
fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?).into())
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?).into())
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Checks that `bytes` is a 64-bit little-endian ELF shared object whose program segments and
/// section headers all lie inside the file. The error says what is wrong.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let len = bytes.len() as u64;
    if len < 64 || &bytes[..4] != b"\x7fELF" {
        return Err(format!("not an ELF file ({len} bytes, no ELF header)"));
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let short = |what: &str, need: u64| {
        format!("truncated file: its {what} end at byte {need}, but the file has {len} bytes")
    };
    let field = |v: Option<u64>| v.ok_or_else(|| format!("truncated file ({len} bytes)"));
    let (ph_off, sh_off) = (field(u64_at(bytes, 0x20))?, field(u64_at(bytes, 0x28))?);
    let (ph_size, ph_num) = (field(u16_at(bytes, 0x36))?, field(u16_at(bytes, 0x38))?);
    let (sh_size, sh_num) = (field(u16_at(bytes, 0x3a))?, field(u16_at(bytes, 0x3c))?);
    let sh_end = sh_off + sh_size * sh_num;
    if sh_end > len {
        return Err(short("section headers", sh_end));
    }
    let ph_end = ph_off + ph_size * ph_num;
    if ph_end > len {
        return Err(short("program headers", ph_end));
    }
    for i in 0..ph_num {
        let at = (ph_off + i * ph_size) as usize;
        const PT_LOAD: u64 = 1;
        if field(u32_at(bytes, at))? == PT_LOAD {
            let end = field(u64_at(bytes, at + 8))? + field(u64_at(bytes, at + 32))?;
            if end > len {
                return Err(short("loadable segments", end));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn this_binary() -> Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    #[test]
    fn accepts_a_real_elf_and_refuses_cuts() {
        let me = this_binary();
        check(&me).unwrap();
        for keep in [me.len() - 1, me.len() / 2, 100] {
            let e = check(&me[..keep]).unwrap_err();
            assert!(e.starts_with("truncated file: its "), "{e}");
            assert!(
                e.ends_with(&format!("but the file has {keep} bytes")),
                "{e}"
            );
        }
        assert_eq!(
            check(&me[..10]).unwrap_err(),
            "not an ELF file (10 bytes, no ELF header)"
        );
        assert_eq!(
            check(b"").unwrap_err(),
            "not an ELF file (0 bytes, no ELF header)"
        );
    }
}
