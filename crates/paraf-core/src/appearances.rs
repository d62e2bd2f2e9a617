//! Signature appearances: the image a person's visible signatures show. One per owner — a
//! user (`user:N`: their signatures on the signer page) or an identity (`identity:N`). An
//! upload is decoded (PNG or JPEG only, at most [`MAX_UPLOAD`] bytes and 4000 pixels a side),
//! scaled down to fit [`MAX_WIDTH`] × [`MAX_HEIGHT`], and stored as PNG (content-addressed
//! blob); what was uploaded is never stored as given.

use paraf_domain::{DomainError, Entity, OrgId, User, UserId};
pub use paraf_store::Appearance;
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// Largest upload accepted.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;
/// The stored image fits this box (pixels), its proportions kept.
pub const MAX_WIDTH: u32 = 600;
pub const MAX_HEIGHT: u32 = 300;
/// Largest side of an upload, before scaling (a decompression bomb is refused).
const MAX_SIDE: u32 = 4000;

/// Whose appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppearanceOwner {
    User(UserId),
    Identity(paraf_domain::IdentityId),
}

impl AppearanceOwner {
    fn key(self) -> String {
        match self {
            AppearanceOwner::User(u) => format!("user:{}", u.0),
            AppearanceOwner::Identity(i) => format!("identity:{}", i.0),
        }
    }
}

/// Decodes a PNG or JPEG and gives it back as a PNG that fits the box.
fn normalise(bytes: &[u8]) -> Result<Vec<u8>> {
    let bad = |why: String| CoreError::invalid("file", why);
    if bytes.len() > MAX_UPLOAD {
        return Err(bad(format!(
            "the image is larger than {} MB",
            MAX_UPLOAD / 1024 / 1024
        )));
    }
    let format = image::guess_format(bytes)
        .map_err(|_| bad("the file is not an image (PNG or JPEG)".into()))?;
    if !matches!(format, image::ImageFormat::Png | image::ImageFormat::Jpeg) {
        return Err(bad("the image must be a PNG or a JPEG".into()));
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| bad(format!("the image cannot be read ({e})")))?;
    let img = if img.width() > MAX_WIDTH || img.height() > MAX_HEIGHT {
        img.resize(MAX_WIDTH, MAX_HEIGHT, image::imageops::FilterType::Lanczos3)
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(CoreError::internal)?;
    Ok(out.into_inner())
}

impl Core {
    /// Stores `bytes` (PNG or JPEG) as `owner`'s appearance, replacing the last one.
    pub async fn set_appearance(
        &self,
        org: OrgId,
        owner: AppearanceOwner,
        bytes: Vec<u8>,
        filename: &str,
        title: &str,
        actor: &Actor,
    ) -> Result<paraf_store::Appearance> {
        let png = tokio::task::spawn_blocking(move || normalise(&bytes))
            .await
            .map_err(CoreError::internal)??;
        let size = png.len() as u64;
        let blob = self.blobs.put(&png).await?;
        let a = paraf_store::Appearance {
            org,
            owner: owner.key(),
            uuid: self.new_uuid()?,
            blob,
            mime: "image/png".into(),
            filename: filename.trim().chars().take(200).collect(),
            title: title.trim().chars().take(200).collect(),
            size,
            created_at: self.now(),
        };
        self.store.put_appearance(&a).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::AppearanceSet,
            Some(a.owner.clone()),
            json!({"size": size, "uuid": a.uuid}),
        );
        self.record(event).await;
        Ok(a)
    }

    /// `owner`'s appearance and its PNG.
    pub async fn appearance(
        &self,
        org: OrgId,
        owner: AppearanceOwner,
    ) -> Result<(paraf_store::Appearance, Vec<u8>)> {
        let a = self.store.appearance(org, &owner.key()).await?;
        let bytes = self.blobs.get(&a.blob).await?.ok_or_else(|| {
            CoreError::internal(format!("appearance blob {} is missing", a.blob.as_str()))
        })?;
        Ok((a, bytes))
    }

    /// `owner`'s appearance, when there is one.
    pub async fn appearance_of(
        &self,
        org: OrgId,
        owner: AppearanceOwner,
    ) -> Result<Option<paraf_store::Appearance>> {
        match self.store.appearance(org, &owner.key()).await {
            Ok(a) => Ok(Some(a)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes `owner`'s appearance ("not found" when there is none).
    pub async fn remove_appearance(
        &self,
        org: OrgId,
        owner: AppearanceOwner,
        actor: &Actor,
    ) -> Result<()> {
        if !self.store.delete_appearance(org, &owner.key()).await? {
            return Err(CoreError::Domain(DomainError::not_found(
                Entity::Appearance,
            )));
        }
        let event = self.audit_event(
            org,
            actor,
            AuditAction::AppearanceRemoved,
            Some(owner.key()),
            json!({}),
        );
        self.record(event).await;
        Ok(())
    }

    /// The saved signature of the user of `org` with this e-mail, if they have one.
    pub async fn saved_signature(
        &self,
        org: OrgId,
        email: &paraf_domain::Email,
    ) -> Result<Option<Vec<u8>>> {
        let user: User = match self.store.user_by_email(org, email).await {
            Ok(u) => u,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match self.appearance(org, AppearanceOwner::User(user.id)).await {
            Ok((_, bytes)) => Ok(Some(bytes)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 0, 0]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn uploads_are_checked_and_scaled_into_the_box() {
        let out = normalise(&png(1200, 400)).unwrap();
        let img = image::load_from_memory(&out).unwrap();
        assert_eq!((img.width(), img.height()), (600, 200));
        let small = normalise(&png(100, 50)).unwrap();
        let img = image::load_from_memory(&small).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50));
        assert!(normalise(b"%PDF-1.7 not an image").is_err());
        assert!(normalise(&png(5000, 10)).is_err());
    }
}
