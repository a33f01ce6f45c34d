//! The command line as a new user meets it: bad files and flags are clear
//! errors that name the file, exit with status 2 and change nothing on disk;
//! stop reasons print one line each.

mod common;

#[cfg(test)]
mod tests {
    use super::common;

    use std::path::PathBuf;

    fn temp(name: &str, data: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("btvm-cli-{}-{name}", std::process::id()));
        std::fs::write(&p, data).unwrap();
        p
    }

    fn stderr(out: &std::process::Output) -> String {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    #[test]
    fn truncated_kernel_is_an_error_naming_the_file() {
        let bundled = btvm::guest::KERNEL;
        let k = temp("truncated-bzImage", &bundled[..3000]);
        let out = common::btvm(&["run", "--kernel", k.to_str().unwrap(), "--serial", "null"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(k.to_str().unwrap()) && err.contains("truncated"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&k).unwrap(),
            &bundled[..3000],
            "the file is unchanged"
        );
        std::fs::remove_file(&k).ok();
    }

    #[test]
    fn not_a_kernel_and_missing_initrd_are_errors() {
        let k = temp("not-a-kernel", &[0x90; 4096]);
        let out = common::btvm(&["run", "--kernel", k.to_str().unwrap(), "--serial", "null"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("not a Linux bzImage"),
            "{}",
            stderr(&out)
        );
        std::fs::remove_file(&k).ok();

        let good = temp("good-bzImage", btvm::guest::KERNEL);
        let out = common::btvm(&[
            "run",
            "--kernel",
            good.to_str().unwrap(),
            "--initrd",
            "/nonexistent/initrd.gz",
            "--serial",
            "null",
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("/nonexistent/initrd.gz"),
            "{}",
            stderr(&out)
        );
        std::fs::remove_file(&good).ok();
    }

    #[test]
    fn floppy_of_unknown_size_is_an_error_and_is_not_modified() {
        let f = temp("odd-floppy.img", &vec![0xE5; 100 * 512]);
        let out = common::btvm(&["run", "--floppy", f.to_str().unwrap(), "--serial", "null"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("odd-floppy.img") && err.contains("floppy"),
            "{err}"
        );
        assert_eq!(std::fs::read(&f).unwrap(), vec![0xE5; 100 * 512]);
        std::fs::remove_file(&f).ok();
    }

    #[test]
    fn bad_flags_are_errors() {
        for args in [
            &["run", "--timeout", "-1"][..],
            &["run", "--clock", "sundial"][..],
            &["run", "--serial", "tcp:4444"][..],
            &["run", "-m", "0"][..],
            &["run", "--bios", "/nonexistent/rom.bin"][..],
        ] {
            let out = common::btvm(args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(!stderr(&out).is_empty());
        }
    }

    #[test]
    fn instruction_limit_stops_with_124_and_says_so() {
        let out = common::btvm(&[
            "run",
            "--clock",
            "virtual",
            "--serial",
            "null",
            "--max-instructions",
            "100000",
        ]);
        assert_eq!(out.status.code(), Some(124));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("--max-instructions 100000"), "{err}");
    }

    #[test]
    fn timeout_stops_with_124_and_says_so() {
        let out = common::btvm(&["run", "--serial", "null", "--timeout", "0.5"]);
        assert_eq!(out.status.code(), Some(124));
        assert!(stderr(&out).contains("--timeout 0.5"), "{}", stderr(&out));
    }

    #[test]
    fn serial_to_a_file_gets_the_console() {
        let f = std::env::temp_dir().join(format!("btvm-cli-{}-serial.txt", std::process::id()));
        let arg = format!("file:{}", f.display());
        let append = "console=ttyS0 earlyprintk=serial,ttyS0,115200";
        let out = common::btvm(&[
            "run",
            "--clock",
            "virtual",
            "--serial",
            &arg,
            "--append",
            append,
            "--max-instructions",
            "20000000",
        ]);
        assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains("early console in extract_kernel"), "{text}");
        std::fs::remove_file(&f).ok();
    }
}
