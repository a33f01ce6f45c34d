//! The bundled Linux guest (built by `guest/build.sh` from Debian packages;
//! see guest/README.md), compiled into the binary so that `btvm run` with
//! no guest arguments boots a shell on any machine.

use crate::machine::{LinuxPayload, Payload};

/// The kernel: Linux 6.1 for a uniprocessor ISA PC, XZ-compressed bzImage.
pub const KERNEL: &[u8] = include_bytes!("../guest/bzImage");
/// The initramfs: busybox-static (i386) and the `/init` script.
pub const INITRAMFS: &[u8] = include_bytes!("../guest/initramfs.cpio.gz");
/// Default kernel command line: console on COM1, reboot at once on panic.
pub const CMDLINE: &str = "console=ttyS0 panic=-1";

/// The bundled guest as a boot payload, with `cmdline` instead of
/// [`CMDLINE`] if given.
pub fn linux(cmdline: Option<String>) -> LinuxPayload {
    LinuxPayload {
        kernel: Payload {
            data: KERNEL.to_vec(),
            name: "bundled guest kernel (guest/bzImage)".into(),
        },
        initrd: Some(Payload {
            data: INITRAMFS.to_vec(),
            name: "bundled guest initramfs (guest/initramfs.cpio.gz)".into(),
        }),
        cmdline: cmdline.unwrap_or_else(|| CMDLINE.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_kernel_is_a_bzimage_and_initramfs_is_gzip() {
        assert_eq!(&KERNEL[0x202..0x206], b"HdrS");
        assert_eq!(&INITRAMFS[..2], &[0x1F, 0x8B]);
    }
}
