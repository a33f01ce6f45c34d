//! The BIOS data area (segment 0040h) and extended BIOS data area: field
//! offsets as the IBM PC/AT Technical Reference lays them out. Offsets are
//! from 0x400.

/// COM1-COM4 base ports (words).
pub const COM_PORTS: u16 = 0x00;
/// LPT1-LPT3 base ports (words).
pub const LPT_PORTS: u16 = 0x08;
/// Segment of the extended BIOS data area (word).
pub const EBDA_SEGMENT: u16 = 0x0E;
/// Equipment word (what INT 11h returns).
pub const EQUIPMENT: u16 = 0x10;
/// Conventional memory in KiB (what INT 12h returns).
pub const MEMORY_KB: u16 = 0x13;
/// Keyboard shift flags 1: bit 0 right shift, 1 left shift, 2 Ctrl, 3 Alt,
/// 4 Scroll Lock on, 5 Num Lock on, 6 Caps Lock on, 7 Insert on.
pub const KBD_FLAGS1: u16 = 0x17;
/// Keyboard shift flags 2: bit 0 left Ctrl, 1 left Alt, 2 SysReq down, 3
/// pause, 4 Scroll Lock down, 5 Num Lock down, 6 Caps Lock down, 7 Insert down.
pub const KBD_FLAGS2: u16 = 0x18;
/// Alt + keypad digits accumulator.
pub const KBD_ALT_NUMPAD: u16 = 0x19;
/// Keyboard buffer head (offset from 0x400).
pub const KBD_HEAD: u16 = 0x1A;
/// Keyboard buffer tail.
pub const KBD_TAIL: u16 = 0x1C;
/// Default keyboard buffer (16 words).
pub const KBD_BUFFER: u16 = 0x1E;
/// Diskette recalibrate status; bit 7: an IRQ 6 came (INT 0Eh).
pub const FLOPPY_SEEK_STATUS: u16 = 0x3E;
/// Diskette motor status.
pub const FLOPPY_MOTOR_STATUS: u16 = 0x3F;
/// Diskette motor-off countdown (ticks).
pub const FLOPPY_MOTOR_COUNT: u16 = 0x40;
/// Status of the last diskette operation.
pub const FLOPPY_LAST_STATUS: u16 = 0x41;
/// Current video mode.
pub const VIDEO_MODE: u16 = 0x49;
/// Columns (word).
pub const VIDEO_COLUMNS: u16 = 0x4A;
/// Bytes per page (word).
pub const VIDEO_PAGE_SIZE: u16 = 0x4C;
/// Offset of the active page in video memory (word).
pub const VIDEO_PAGE_START: u16 = 0x4E;
/// Cursor position per page, 8 words of (column, row).
pub const VIDEO_CURSOR_POS: u16 = 0x50;
/// Cursor shape: end line (byte), start line (byte) = CX of INT 10h AH=01h.
pub const VIDEO_CURSOR_SHAPE: u16 = 0x60;
/// Active display page.
pub const VIDEO_PAGE: u16 = 0x62;
/// CRTC index port (word).
pub const VIDEO_CRTC_BASE: u16 = 0x63;
/// CGA mode control register value.
pub const VIDEO_MODE_CONTROL: u16 = 0x65;
/// CGA palette register value.
pub const VIDEO_PALETTE: u16 = 0x66;
/// Timer ticks since midnight (dword).
pub const TICKS: u16 = 0x6C;
/// Midnight passed since the last INT 1Ah AH=00h.
pub const TICKS_ROLLOVER: u16 = 0x70;
/// Ctrl-Break flag (bit 7).
pub const CTRL_BREAK: u16 = 0x71;
/// Reset flag (0x1234: warm boot).
pub const RESET_FLAG: u16 = 0x72;
/// Status of the last hard-disk operation.
pub const DISK_LAST_STATUS: u16 = 0x74;
/// Number of hard disks.
pub const DISK_COUNT: u16 = 0x75;
/// LPT timeouts (4 bytes).
pub const LPT_TIMEOUTS: u16 = 0x78;
/// COM timeouts in seconds-ish units (4 bytes).
pub const COM_TIMEOUTS: u16 = 0x7C;
/// Keyboard buffer start (offset from 0x400).
pub const KBD_START: u16 = 0x80;
/// Keyboard buffer end.
pub const KBD_END: u16 = 0x82;
/// Text rows minus one.
pub const VIDEO_ROWS: u16 = 0x84;
/// Character height in scan lines (word).
pub const VIDEO_CHAR_HEIGHT: u16 = 0x85;
/// EGA/VGA control: bit 0 cursor emulation off, bit 5-6 memory (11 = 256K).
pub const VIDEO_EGA_CONTROL: u16 = 0x87;
/// EGA/VGA switches.
pub const VIDEO_EGA_SWITCHES: u16 = 0x88;
/// VGA mode-set options: bit 4 = 400 lines, bit 0 = VGA active.
pub const VIDEO_VGA_FLAGS: u16 = 0x89;
/// Display combination code index.
pub const VIDEO_DCC: u16 = 0x8A;
/// Diskette media state, drives 0 and 1.
pub const FLOPPY_MEDIA_STATE: u16 = 0x90;
/// Keyboard flags 3: bit 0 last code was E1, 1 last code was E0, 2 right
/// Ctrl, 3 right Alt, 4 101/102-key keyboard.
pub const KBD_FLAGS3: u16 = 0x96;
/// Keyboard LED flags.
pub const KBD_LEDS: u16 = 0x97;

/// EBDA: its own size in KiB (byte 0).
pub const EBDA_SIZE_KB: u32 = 0x00;
/// EBDA: the fixed-disk parameter table of drive 80h (INT 41h).
pub const EBDA_FDPT0: u32 = 0x3D;
/// EBDA: the fixed-disk parameter table of drive 81h (INT 46h).
pub const EBDA_FDPT1: u32 = 0x4D;

/// Conventional memory reported (KiB): 640 less a 1 KiB EBDA.
pub const BASE_MEMORY_KB: u16 = 639;
/// Segment of the EBDA (at 639 KiB).
pub const EBDA_SEG: u16 = 0x9FC0;
/// Physical address of the EBDA.
pub const EBDA_ADDR: u32 = 0x9_FC00;
