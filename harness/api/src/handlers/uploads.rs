//! Resumable uploads: a session announces a file's size, `UploadData`
//! appends bytes at the session's offset, and the call that reaches the
//! size turns the upload into a file (its `FileInfo`), ending the session.
//! Bytes beyond the announced size are dropped, as upstream reads at most
//! what is missing. Import uploads are kept like attachments.

use mm_plugin_proto::pb;

use super::{
    common::is_valid_id,
    files::{NO_TEAM, new_file_info, store_file},
};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{Upload, World, date_stamp},
};

pub fn register(registry: &mut Registry) {
    registry.add(create_upload_session);
    registry.add(upload_data);
    registry.add(get_upload_session);
}

/// `FileSettings.MaxFileSize` when the configuration does not say.
const DEFAULT_MAX_FILE_SIZE: i64 = 100 * 1024 * 1024;

/// `UploadSession.IsValid`, for the fields the caller sets.
fn check_session(session: &pb::UploadSession) -> HandlerResult<()> {
    let invalid = |field: &str, label: &str| {
        Err(ApiError::invalid(
            "UploadSession.IsValid",
            &format!("model.upload_session.is_valid.{field}.app_error"),
            format!("Invalid value for {label}."),
        )
        .with_detail(format!("id={}", session.id)))
    };
    if !is_valid_id(&session.id) {
        return invalid("id", "Id");
    }
    if !matches!(session.r#type.as_str(), "attachment" | "import") {
        return invalid("type", "Type");
    }
    if !is_valid_id(&session.user_id) && session.user_id != "nouser" {
        return invalid("user_id", "UserId");
    }
    if session.r#type == "attachment" && !is_valid_id(&session.channel_id) {
        return invalid("channel_id", "ChannelId");
    }
    if session.filename.is_empty() {
        return invalid("filename", "Filename");
    }
    if session.file_size <= 0 {
        return invalid("file_size", "FileSize");
    }
    Ok(())
}

fn session_missing(upload_id: &str) -> ApiError {
    ApiError::not_found(
        "GetUploadSession",
        "app.upload.get.app_error",
        "Unable to get upload session.",
    )
    .with_detail(format!("upload_id={upload_id}"))
}

/// The caller picks the id (as upstream's REST layer does for clients);
/// offset, creation time and path are the server's.
fn create_upload_session(
    world: &mut World,
    request: pb::CreateUploadSessionRequest,
) -> HandlerResult<pb::CreateUploadSessionResponse> {
    let location = "CreateUploadSession";
    let mut session = request
        .upload_session
        .ok_or_else(|| ApiError::argument(location, "upload_session is required"))?;
    let max = world
        .config
        .pointer("/FileSettings/MaxFileSize")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(DEFAULT_MAX_FILE_SIZE);
    if session.file_size > max {
        return Err(ApiError::new(
            413,
            location,
            "app.upload.create.upload_too_large.app_error",
            "Unable to upload file. File is too large.",
        )
        .with_detail(format!("file_size={} max={max}", session.file_size)));
    }
    let now = world.now_millis();
    session.file_offset = 0;
    session.create_at = now;
    let filename = session
        .filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_owned();
    session.path = format!(
        "data/{}/teams/{NO_TEAM}/channels/{}/users/{}/{}/{filename}",
        date_stamp(now),
        session.channel_id,
        session.user_id,
        session.id
    );
    check_session(&session)?;
    if session.r#type == "attachment" {
        let channel = world.channels.get(&session.channel_id).ok_or_else(|| {
            ApiError::invalid(
                location,
                "app.upload.create.incorrect_channel_id.app_error",
                "Unable to upload the file. Incorrect channel ID.",
            )
            .with_detail(format!("channel_id={}", session.channel_id))
        })?;
        if channel.delete_at != 0 {
            return Err(ApiError::invalid(
                location,
                "app.upload.create.cannot_upload_to_deleted_channel.app_error",
                "Cannot upload to a deleted channel.",
            )
            .with_detail(format!("channel_id={}", session.channel_id)));
        }
    }
    if world.uploads.contains_key(&session.id) {
        return Err(ApiError::internal(
            location,
            "app.upload.create.save.app_error",
            "Failed to save upload.",
        )
        .with_detail(format!("upload_id={} exists", session.id)));
    }
    world.uploads.insert(
        session.id.clone(),
        Upload {
            session: session.clone(),
            data: Vec::new(),
        },
    );
    Ok(pb::CreateUploadSessionResponse {
        error: None,
        upload_session: Some(session),
    })
}

/// The caller's session must agree with the stored one on the offset
/// (upstream's guard against two writers). An unfinished upload answers no
/// file info.
fn upload_data(
    world: &mut World,
    request: pb::UploadDataRequest,
) -> HandlerResult<pb::UploadDataResponse> {
    let location = "UploadData";
    let given = request
        .upload_session
        .ok_or_else(|| ApiError::argument(location, "upload_session is required"))?;
    let upload = world
        .uploads
        .get_mut(&given.id)
        .ok_or_else(|| session_missing(&given.id))?;
    if given.file_offset != upload.session.file_offset {
        return Err(ApiError::invalid(
            location,
            "app.upload.upload_data.concurrent.app_error",
            "Unable to upload data from more than one request.",
        )
        .with_detail(format!(
            "FileOffset mismatch: given {}, stored {}",
            given.file_offset, upload.session.file_offset
        )));
    }
    let missing = (upload.session.file_size - upload.session.file_offset).max(0) as usize;
    let taken = request.data.len().min(missing);
    upload.data.extend_from_slice(&request.data[..taken]);
    upload.session.file_offset += taken as i64;
    if upload.session.file_offset < upload.session.file_size {
        return Ok(pb::UploadDataResponse {
            error: None,
            file_info: None,
        });
    }
    let Upload { session, data } = world
        .uploads
        .remove(&given.id)
        .expect("the upload was found above");
    let name = session
        .path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut info = new_file_info(
        world,
        name,
        &session.user_id,
        &session.channel_id,
        data.len(),
    );
    info.remote_id = Some(session.remote_id.clone()).filter(|id| !id.is_empty());
    store_file(world, &info, session.path, data);
    Ok(pb::UploadDataResponse {
        error: None,
        file_info: Some(info),
    })
}

fn get_upload_session(
    world: &mut World,
    request: pb::GetUploadSessionRequest,
) -> HandlerResult<pb::GetUploadSessionResponse> {
    let session = world
        .uploads
        .get(&request.upload_id)
        .map(|upload| upload.session.clone())
        .ok_or_else(|| session_missing(&request.upload_id))?;
    Ok(pb::GetUploadSessionResponse {
        error: None,
        upload_session: Some(session),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";
    const UPLOAD: &str = "up000000000000000000000001";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn create(w: &mut World, size: i64) -> HandlerResult<pb::UploadSession> {
        create_upload_session(
            w,
            pb::CreateUploadSessionRequest {
                upload_session: Some(pb::UploadSession {
                    id: UPLOAD.into(),
                    r#type: "attachment".into(),
                    user_id: ALICE.into(),
                    channel_id: TOWN_SQUARE.into(),
                    filename: "notes.txt".into(),
                    file_size: size,
                    ..Default::default()
                }),
            },
        )
        .map(|answer| answer.upload_session.unwrap())
    }

    fn send(w: &mut World, offset: i64, data: &[u8]) -> HandlerResult<Option<pb::FileInfo>> {
        let session = pb::UploadSession {
            id: UPLOAD.into(),
            file_offset: offset,
            ..Default::default()
        };
        upload_data(
            w,
            pb::UploadDataRequest {
                upload_session: Some(session),
                data: data.to_vec(),
            },
        )
        .map(|answer| answer.file_info)
    }

    #[test]
    fn data_is_appended_at_offsets_until_the_file_is_complete() {
        let mut w = world();
        let session = create(&mut w, 10).unwrap();
        assert!(
            session
                .path
                .ends_with(&format!("/users/{ALICE}/{UPLOAD}/notes.txt"))
        );
        assert_eq!(send(&mut w, 0, b"hello").unwrap(), None);
        let stored = get_upload_session(
            &mut w,
            pb::GetUploadSessionRequest {
                upload_id: UPLOAD.into(),
            },
        )
        .unwrap()
        .upload_session
        .unwrap();
        assert_eq!(stored.file_offset, 5);
        let err = send(&mut w, 0, b"again").unwrap_err();
        assert_eq!(err.id, "app.upload.upload_data.concurrent.app_error");
        let info = send(&mut w, 5, b" world and more").unwrap().unwrap();
        assert_eq!(
            (info.size, info.mime_type.as_str(), info.creator_id.as_str()),
            (10, "text/plain", ALICE)
        );
        assert_eq!(w.files[&info.id].data, b"hello worl");
        let err = get_upload_session(
            &mut w,
            pb::GetUploadSessionRequest {
                upload_id: UPLOAD.into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.upload.get.app_error")
        );
    }

    #[test]
    fn sessions_are_validated_like_upstream() {
        let mut w = world();
        assert_eq!(
            create(&mut w, 0).unwrap_err().id,
            "model.upload_session.is_valid.file_size.app_error"
        );
        assert_eq!(create(&mut w, i64::MAX).unwrap_err().status_code, 413);
        w.channels.get_mut(TOWN_SQUARE).unwrap().delete_at = 1;
        assert_eq!(
            create(&mut w, 3).unwrap_err().id,
            "app.upload.create.cannot_upload_to_deleted_channel.app_error"
        );
    }
}
