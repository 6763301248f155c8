//! Files: uploads are kept in memory with their info; read back by id or
//! by file-store path, listed, copied, linked. Failures are embedded in the
//! response (upstream's api_file.go).
//!
//! Not modelled: image dimensions and previews, and the `FileWillBeUploaded`
//! hook upstream runs on uploads (the API server cannot call the plugin).

use mm_plugin_proto::pb;

use super::common::Page;
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    sha1,
    world::{StoredFile, World, date_stamp},
};

pub fn register(registry: &mut Registry) {
    registry.add(upload_file);
    registry.add(get_file_info);
    registry.add(get_file_infos);
    registry.add(get_file);
    registry.add(read_file);
    registry.add(get_file_link);
    registry.add(copy_file_infos);
    registry.add(set_file_searchable_content);
}

/// Who uploaded a file the plugin API uploads: nobody in particular.
const NO_USER: &str = "nouser";
pub(super) const NO_TEAM: &str = "noteam";

/// A MIME type from the extension, for the common ones.
pub(super) fn mime_type(extension: &str) -> &'static str {
    match extension {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        "md" => "text/markdown",
        "html" => "text/html",
        _ => "",
    }
}

fn info_missing(location: &str, file_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.file_info.get.app_error",
        "Unable to get the file info.",
    )
    .with_detail(format!("file_id={file_id}"))
}

fn stored<'w>(world: &'w World, location: &str, file_id: &str) -> HandlerResult<&'w StoredFile> {
    world
        .files
        .get(file_id)
        .ok_or_else(|| info_missing(location, file_id))
}

/// `App.UploadFile`: the channel, when named, must exist; the file is
/// stored under the path the local file store would use.
fn upload_file(
    world: &mut World,
    request: pb::UploadFileRequest,
) -> HandlerResult<pb::UploadFileResponse> {
    if !request.channel_id.is_empty() && !world.channels.contains_key(&request.channel_id) {
        return Err(ApiError::invalid(
            "UploadFile",
            "api.file.upload_file.incorrect_channelId.app_error",
            "Unable to upload the file. Incorrect channel ID.",
        )
        .with_detail(format!("channelId={}", request.channel_id)));
    }
    let name = request
        .filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let info = new_file_info(
        world,
        name,
        NO_USER,
        &request.channel_id,
        request.data.len(),
    );
    let path = format!(
        "data/{}/teams/{NO_TEAM}/channels/{}/users/{NO_USER}/{}/{}",
        date_stamp(info.create_at),
        info.channel_id,
        info.id,
        info.name
    );
    store_file(world, &info, path, request.data);
    Ok(pb::UploadFileResponse {
        error: None,
        file_info: Some(info),
    })
}

/// The FileInfo of a file created now: a new id, the extension and MIME
/// type read from `name`.
pub(super) fn new_file_info(
    world: &mut World,
    name: String,
    creator_id: &str,
    channel_id: &str,
    size: usize,
) -> pb::FileInfo {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_lowercase())
        .unwrap_or_default();
    let now = world.now_millis();
    pb::FileInfo {
        id: world.next_id('f'),
        creator_id: creator_id.to_owned(),
        channel_id: channel_id.to_owned(),
        create_at: now,
        update_at: now,
        mime_type: mime_type(&extension).to_owned(),
        name,
        extension,
        size: size as i64,
        ..Default::default()
    }
}

/// Keeps `data` as the file `info` describes, stored at `path`.
pub(super) fn store_file(world: &mut World, info: &pb::FileInfo, path: String, data: Vec<u8>) {
    world.files.insert(
        info.id.clone(),
        StoredFile {
            info: info.clone(),
            path,
            data,
            searchable_content: String::new(),
        },
    );
}

fn get_file_info(
    world: &mut World,
    request: pb::GetFileInfoRequest,
) -> HandlerResult<pb::GetFileInfoResponse> {
    let info = stored(world, "GetFileInfo", &request.file_id)?.info.clone();
    Ok(pb::GetFileInfoResponse {
        error: None,
        file_info: Some(info),
    })
}

/// Filtered by creator and channel, sorted by creation time (or by size
/// with `sort_by: "Size"`), ascending unless `sort_order` is `desc`.
fn get_file_infos(
    world: &mut World,
    request: pb::GetFileInfosRequest,
) -> HandlerResult<pb::GetFileInfosResponse> {
    let page = Page::new("GetFileInfos", request.page, request.per_page).map_err(|_| {
        ApiError::invalid(
            "GetFileInfos",
            "app.file_info.get_with_options.app_error",
            "Unable to get the file infos.",
        )
    })?;
    let options = request.options.unwrap_or_default();
    let mut infos: Vec<pb::FileInfo> = world
        .files
        .values()
        .map(|file| &file.info)
        .filter(|info| options.include_deleted || info.delete_at == 0)
        .filter(|info| options.user_id.is_empty() || info.creator_id == options.user_id)
        .filter(|info| options.channel_id.is_empty() || info.channel_id == options.channel_id)
        .cloned()
        .collect();
    if options.sort_by == "Size" {
        infos.sort_by(|a, b| a.size.cmp(&b.size).then(a.id.cmp(&b.id)));
    } else {
        infos.sort_by(|a, b| a.create_at.cmp(&b.create_at).then(a.id.cmp(&b.id)));
    }
    if options.sort_order == "desc" {
        infos.reverse();
    }
    Ok(pb::GetFileInfosResponse {
        error: None,
        file_infos: page.apply(infos),
    })
}

fn get_file(world: &mut World, request: pb::GetFileRequest) -> HandlerResult<pb::GetFileResponse> {
    let data = stored(world, "GetFileInfo", &request.file_id)?.data.clone();
    Ok(pb::GetFileResponse { error: None, data })
}

/// Reads by file-store path, as the files' infos record them.
fn read_file(
    world: &mut World,
    request: pb::ReadFileRequest,
) -> HandlerResult<pb::ReadFileResponse> {
    let data = world
        .files
        .values()
        .find(|file| file.path == request.path)
        .map(|file| file.data.clone())
        .ok_or_else(|| {
            ApiError::internal(
                "ReadFile",
                "api.file.read_file.app_error",
                "Encountered an error reading from the server file storage.",
            )
            .with_detail(format!("path={}", request.path))
        })?;
    Ok(pb::ReadFileResponse { error: None, data })
}

/// Needs public links enabled (`FileSettings.EnablePublicLink`, off by
/// default) and a file attached to a post. The `h` parameter stands in for
/// upstream's salted hash.
fn get_file_link(
    world: &mut World,
    request: pb::GetFileLinkRequest,
) -> HandlerResult<pb::GetFileLinkResponse> {
    if !world.config_flag("FileSettings", "EnablePublicLink", false) {
        return Err(ApiError::not_implemented(
            "GetFileLink",
            "plugin_api.get_file_link.disabled.app_error",
            "Public links have been disabled.",
        ));
    }
    let info = &stored(world, "GetFileInfo", &request.file_id)?.info;
    if info.post_id.is_empty() {
        return Err(ApiError::invalid(
            "GetFileLink",
            "plugin_api.get_file_link.no_post.app_error",
            "Unable to get public link for file. File must be attached to a post that can be read by the current user.",
        )
        .with_detail(format!("file_id={}", info.id)));
    }
    let site_url = world
        .config_str("ServiceSettings", "SiteURL")
        .unwrap_or_default();
    let link = format!(
        "{site_url}/files/{}/public?h={}",
        info.id,
        sha1::hex_digest(info.id.as_bytes())
    );
    Ok(pb::GetFileLinkResponse { error: None, link })
}

/// New infos for the same files, owned by `user_id` and attached to nothing.
fn copy_file_infos(
    world: &mut World,
    request: pb::CopyFileInfosRequest,
) -> HandlerResult<pb::CopyFileInfosResponse> {
    let originals = request
        .file_ids
        .iter()
        .map(|id| stored(world, "CopyFileInfos", id).cloned())
        .collect::<HandlerResult<Vec<StoredFile>>>()?;
    let now = world.now_millis();
    let mut file_ids = Vec::new();
    for mut copy in originals {
        copy.info.id = world.next_id('f');
        copy.info.creator_id = request.user_id.clone();
        copy.info.create_at = now;
        copy.info.update_at = now;
        copy.info.post_id.clear();
        copy.info.channel_id.clear();
        file_ids.push(copy.info.id.clone());
        world.files.insert(copy.info.id.clone(), copy);
    }
    Ok(pb::CopyFileInfosResponse {
        error: None,
        file_ids,
    })
}

fn set_file_searchable_content(
    world: &mut World,
    request: pb::SetFileSearchableContentRequest,
) -> HandlerResult<pb::SetFileSearchableContentResponse> {
    let file = world
        .files
        .get_mut(&request.file_id)
        .ok_or_else(|| info_missing("GetFileInfo", &request.file_id))?;
    file.searchable_content = request.content;
    Ok(pb::SetFileSearchableContentResponse { error: None })
}

/// Attaches uploaded files to a new post, as `CreatePost` does for files
/// its author (or the plugin API, as `nouser`) uploaded and no post has.
pub(super) fn attach_to_post(world: &mut World, post: &pb::Post) {
    for id in &post.file_ids {
        if let Some(file) = world.files.get_mut(id) {
            let info = &mut file.info;
            let own = info.creator_id == post.user_id || info.creator_id == NO_USER;
            if own && info.post_id.is_empty() {
                info.post_id = post.id.clone();
                info.channel_id = post.channel_id.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn upload(w: &mut World, name: &str, data: &[u8]) -> pb::FileInfo {
        upload_file(
            w,
            pb::UploadFileRequest {
                data: data.to_vec(),
                channel_id: TOWN_SQUARE.into(),
                filename: name.into(),
            },
        )
        .unwrap()
        .file_info
        .unwrap()
    }

    #[test]
    fn uploads_are_kept_and_read_back_by_id_and_path() {
        let mut w = world();
        let info = upload(&mut w, "notes/report.TXT", b"hello");
        assert_eq!(
            (
                info.name.as_str(),
                info.extension.as_str(),
                info.mime_type.as_str(),
                info.size
            ),
            ("report.TXT", "txt", "text/plain", 5)
        );
        assert_eq!(info.creator_id, "nouser");
        let data = get_file(
            &mut w,
            pb::GetFileRequest {
                file_id: info.id.clone(),
            },
        )
        .unwrap()
        .data;
        assert_eq!(data, b"hello");
        let path = w.files[&info.id].path.clone();
        assert!(path.starts_with("data/") && path.ends_with(&format!("/{}/report.TXT", info.id)));
        assert_eq!(
            read_file(&mut w, pb::ReadFileRequest { path })
                .unwrap()
                .data,
            b"hello"
        );
        let err = read_file(
            &mut w,
            pb::ReadFileRequest {
                path: "nope".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.status_code, 500);
        let err = upload_file(
            &mut w,
            pb::UploadFileRequest {
                data: vec![],
                channel_id: "nope".into(),
                filename: "x".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "api.file.upload_file.incorrect_channelId.app_error");
    }

    #[test]
    fn infos_are_listed_sorted_and_paginated_and_copies_are_new() {
        let mut w = world();
        let big = upload(&mut w, "big.bin", &[0; 10]);
        let small = upload(&mut w, "small.bin", &[0; 2]);
        let list = |w: &mut World, sort_by: &str, order: &str, page, per_page| {
            get_file_infos(
                w,
                pb::GetFileInfosRequest {
                    page,
                    per_page,
                    options: Some(pb::GetFileInfosOptions {
                        channel_id: TOWN_SQUARE.into(),
                        sort_by: sort_by.into(),
                        sort_order: order.into(),
                        ..Default::default()
                    }),
                },
            )
            .unwrap()
            .file_infos
            .into_iter()
            .map(|i| i.id)
            .collect::<Vec<_>>()
        };
        assert_eq!(
            list(&mut w, "Size", "", 0, 10),
            [small.id.clone(), big.id.clone()]
        );
        assert_eq!(
            list(&mut w, "", "desc", 0, 1),
            std::slice::from_ref(&small.id)
        );
        assert_eq!(list(&mut w, "", "", 1, 1), std::slice::from_ref(&small.id));
        let copies = copy_file_infos(
            &mut w,
            pb::CopyFileInfosRequest {
                user_id: "ualice00000000000000000000".into(),
                file_ids: vec![big.id.clone()],
            },
        )
        .unwrap()
        .file_ids;
        let copy = &w.files[&copies[0]];
        assert_ne!(copy.info.id, big.id);
        assert!(copy.info.channel_id.is_empty());
        assert_eq!(copy.data.len(), 10);
        let err = copy_file_infos(
            &mut w,
            pb::CopyFileInfosRequest {
                user_id: String::new(),
                file_ids: vec!["nope".into()],
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.file_info.get.app_error")
        );
    }

    #[test]
    fn links_need_public_links_and_a_post() {
        let mut w = world();
        let info = upload(&mut w, "a.txt", b"a");
        let link = |w: &mut World| {
            get_file_link(
                w,
                pb::GetFileLinkRequest {
                    file_id: info.id.clone(),
                },
            )
        };
        assert_eq!(link(&mut w).unwrap_err().status_code, 501);
        w.config["FileSettings"]["EnablePublicLink"] = true.into();
        assert_eq!(
            link(&mut w).unwrap_err().id,
            "plugin_api.get_file_link.no_post.app_error"
        );
        let post = pb::Post {
            id: "p0000000000000000000000042".into(),
            user_id: "ualice00000000000000000000".into(),
            channel_id: TOWN_SQUARE.into(),
            file_ids: vec![info.id.clone()],
            ..Default::default()
        };
        attach_to_post(&mut w, &post);
        let url = link(&mut w).unwrap().link;
        assert!(
            url.starts_with(&format!(
                "http://localhost:8065/files/{}/public?h=",
                info.id
            )),
            "{url}"
        );
        set_file_searchable_content(
            &mut w,
            pb::SetFileSearchableContentRequest {
                file_id: info.id.clone(),
                content: "a".into(),
            },
        )
        .unwrap();
        assert_eq!(w.files[&info.id].searchable_content, "a");
    }
}
