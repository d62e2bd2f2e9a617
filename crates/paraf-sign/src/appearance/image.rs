//! Image XObjects (ISO 32000-2 §8.9.5) from the signer's PNG or JPEG.
//!
//! A baseline or progressive 8-bit JPEG is embedded as it is, with `/DCTDecode`: one component
//! is DeviceGray, three DeviceRGB, four DeviceCMYK — inverted with `/Decode [1 0 1 0 1 0 1 0]`
//! when an Adobe APP14 marker says Photoshop wrote it, as Photoshop stores CMYK inverted.
//! Other JPEGs (12-bit, lossless, arithmetic-coded) are decoded and re-embedded as pixels.
//!
//! A PNG is decoded to 8-bit gray or RGB pixels compressed with `/FlateDecode`; its alpha
//! channel, when not fully opaque, becomes a separate gray image referenced as `/SMask` (§11.6.5.3).
//!
//! Not handled: embedded ICC profiles and gamma (colours are taken as device colours), EXIF
//! orientation (the image is drawn as stored). A JPEG's entropy-coded data is not checked.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use paraf_pdf::{Dict, IncrementalUpdate, ObjRef, Object, Stream};

use super::{deflate, AppearanceError, ImageSource};

/// Pixel dimensions past which an image is refused rather than decoded.
const MAX_SIDE: u32 = 10_000;
/// Bytes the decoder may allocate.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// An image ready to be written: its XObject stream and, for PNGs with transparency, its mask.
pub(super) struct PreparedImage {
    pub(super) width: u32,
    pub(super) height: u32,
    image: Stream,
    smask: Option<Stream>,
}

impl PreparedImage {
    /// Width over height.
    pub(super) fn aspect(&self) -> f64 {
        f64::from(self.width) / f64::from(self.height)
    }

    /// Writes the image (and its soft mask) to `update`; returns the image's ref.
    pub(super) fn embed(self, update: &mut IncrementalUpdate<'_>) -> ObjRef {
        let image_ref = update.alloc();
        let mut image = self.image;
        if let Some(mask) = self.smask {
            let mask_ref = update.alloc();
            update.put(mask_ref, mask);
            image.dict.set("SMask", mask_ref);
        }
        update.put(image_ref, image);
        image_ref
    }
}

enum Kind {
    Png,
    Jpeg,
}

/// Decodes (or, for JPEGs, inspects) the image. The declared format is only a hint: the
/// bytes' own signature decides, because clients do mislabel their uploads.
pub(super) fn prepare(source: &ImageSource) -> Result<PreparedImage, AppearanceError> {
    let (bytes, declared) = match source {
        ImageSource::Png(b) => (b, "PNG"),
        ImageSource::Jpeg(b) => (b, "JPEG"),
        ImageSource::Auto(b) => (b, "PNG or JPEG"),
    };
    if bytes.is_empty() {
        return Err(unreadable("the data is empty"));
    }
    match sniff(bytes) {
        Some(Kind::Png) => png(bytes),
        Some(Kind::Jpeg) => jpeg(bytes),
        None => Err(unreadable(format!(
            "declared {declared}, but the {} bytes start with neither the PNG nor the JPEG signature",
            bytes.len()
        ))),
    }
}

fn unreadable(why: impl Into<String>) -> AppearanceError {
    AppearanceError::UnreadableImage(why.into())
}

fn sniff(b: &[u8]) -> Option<Kind> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else {
        None
    }
}

fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, AppearanceError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader.decode().map_err(|e| unreadable(e.to_string()))
}

fn png(bytes: &[u8]) -> Result<PreparedImage, AppearanceError> {
    pixels(decode(bytes, ImageFormat::Png)?)
}

/// Raw 8-bit pixels, gray or RGB, with the alpha channel split off as a soft mask.
fn pixels(img: DynamicImage) -> Result<PreparedImage, AppearanceError> {
    let (width, height) = (img.width(), img.height());
    if width == 0 || height == 0 {
        return Err(unreadable("the image has no pixels"));
    }
    let color = img.color();
    let (space, data, alpha) = match (color.has_color(), color.has_alpha()) {
        (true, false) => ("DeviceRGB", img.into_rgb8().into_raw(), None),
        (false, false) => ("DeviceGray", img.into_luma8().into_raw(), None),
        (true, true) => {
            let raw = img.into_rgba8().into_raw();
            let mut rgb = Vec::with_capacity(raw.len() / 4 * 3);
            let mut a = Vec::with_capacity(raw.len() / 4);
            for px in raw.chunks_exact(4) {
                rgb.extend_from_slice(&px[..3]);
                a.push(px[3]);
            }
            ("DeviceRGB", rgb, Some(a))
        }
        (false, true) => {
            let raw = img.into_luma_alpha8().into_raw();
            let mut g = Vec::with_capacity(raw.len() / 2);
            let mut a = Vec::with_capacity(raw.len() / 2);
            for px in raw.chunks_exact(2) {
                g.push(px[0]);
                a.push(px[1]);
            }
            ("DeviceGray", g, Some(a))
        }
    };
    let smask = match alpha {
        Some(a) if a.iter().any(|&v| v != 255) => Some(image_stream(
            width,
            height,
            "DeviceGray",
            "FlateDecode",
            deflate(&a)?,
        )),
        _ => None,
    };
    Ok(PreparedImage {
        width,
        height,
        image: image_stream(width, height, space, "FlateDecode", deflate(&data)?),
        smask,
    })
}

fn image_stream(width: u32, height: u32, space: &str, filter: &str, data: Vec<u8>) -> Stream {
    Stream {
        dict: Dict::new()
            .with("Type", Object::name("XObject"))
            .with("Subtype", Object::name("Image"))
            .with("Width", width)
            .with("Height", height)
            .with("ColorSpace", Object::name(space))
            .with("BitsPerComponent", 8)
            .with("Filter", Object::name(filter)),
        data,
    }
}

fn jpeg(bytes: &[u8]) -> Result<PreparedImage, AppearanceError> {
    let info = jpeg_info(bytes).map_err(unreadable)?;
    let direct = matches!(info.sof, 0xC0..=0xC2)
        && info.precision == 8
        && info.width > 0
        && info.height > 0
        && u32::from(info.width) <= MAX_SIDE
        && u32::from(info.height) <= MAX_SIDE;
    let space = match info.components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        _ => "",
    };
    if !direct || space.is_empty() {
        return pixels(decode(bytes, ImageFormat::Jpeg)?);
    }
    let mut image = image_stream(
        u32::from(info.width),
        u32::from(info.height),
        space,
        "DCTDecode",
        bytes.to_vec(),
    );
    if info.components == 4 && info.adobe {
        image
            .dict
            .set("Decode", [1, 0, 1, 0, 1, 0, 1, 0].map(Object::Int).to_vec());
    }
    Ok(PreparedImage {
        width: u32::from(info.width),
        height: u32::from(info.height),
        image,
        smask: None,
    })
}

/// What the frame header of a JPEG (ITU-T T.81 §B.2.2) and its APP14 marker say.
struct JpegInfo {
    /// The SOFn marker's second byte: C0 baseline, C1 extended, C2 progressive, …
    sof: u8,
    precision: u8,
    height: u16,
    width: u16,
    components: u8,
    /// An Adobe APP14 marker precedes the frame.
    adobe: bool,
}

/// Walks the markers up to the first frame header.
fn jpeg_info(b: &[u8]) -> Result<JpegInfo, String> {
    let be16 =
        |at: usize| -> Option<u16> { Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?])) };
    let truncated = |at: usize| format!("the JPEG ends at byte {at}, before its frame header");
    let mut i = 2;
    let mut adobe = false;
    loop {
        match b.get(i) {
            Some(0xFF) => {}
            Some(_) => {
                return Err(format!(
                    "the JPEG has no marker where one is due, at byte {i}"
                ))
            }
            None => return Err(truncated(i)),
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *b.get(i).ok_or_else(|| truncated(i))?;
        i += 1;
        match marker {
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => {
                return Err(format!(
                    "the JPEG has no frame header before its {} marker",
                    if marker == 0xD9 { "end" } else { "scan" }
                ))
            }
            _ => {}
        }
        let len = usize::from(be16(i).ok_or_else(|| truncated(i))?);
        if len < 2 {
            return Err(format!(
                "the JPEG has a marker segment of length {len} at byte {i}"
            ));
        }
        let seg = b.get(i + 2..i + len).ok_or_else(|| truncated(b.len()))?;
        match marker {
            0xEE if seg.starts_with(b"Adobe") => adobe = true,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if seg.len() < 6 {
                    return Err(format!("the JPEG frame header at byte {i} is too short"));
                }
                return Ok(JpegInfo {
                    sof: marker,
                    precision: seg[0],
                    height: u16::from_be_bytes([seg[1], seg[2]]),
                    width: u16::from_be_bytes([seg[3], seg[4]]),
                    components: seg[5],
                    adobe,
                });
            }
            _ => {}
        }
        i += len;
    }
}
