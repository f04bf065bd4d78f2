use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// (tag, step, value) of every scalar in `events`, in file order.
fn scalars_of(events: &[Event]) -> Vec<(String, i64, f32)> {
    let mut out = Vec::new();
    for event in events {
        if let Some(What::Summary(summary)) = &event.what {
            for v in &summary.value {
                if let Some(value::Value::SimpleValue(x)) = v.value {
                    out.push((v.tag.clone(), event.step, x));
                }
            }
        }
    }
    out
}

fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn proto_matches_tensorboard_bytes() {
    // Serialized by TensorBoard 2.21's own `event_pb2` / `summary_pb2` (Python).
    let session = Event {
        wall_time: 1.5,
        step: 7,
        what: Some(What::SessionLog(SessionLog {
            status: SessionStatus::Start as i32,
            msg: "hi".into(),
            ..SessionLog::default()
        })),
    };
    let version = Event {
        wall_time: 2.0,
        step: 3,
        what: Some(What::FileVersion(FILE_VERSION.into())),
    };
    let image = Image {
        height: 2,
        width: 1,
        colorspace: 3,
        encoded_image_string: vec![0x89, b'P'],
    };
    let mut loss = tagged("loss", value::Value::SimpleValue(0.25));
    loss.node_name = "n".into();
    let summary = Event {
        wall_time: 0.5,
        step: -1,
        what: Some(What::Summary(Summary {
            value: vec![loss, tagged("img", value::Value::Image(image))],
        })),
    };
    let golden = [
        (session, "09000000000000f83f10073a0608011a026869"),
        (version, "09000000000000004010031a0d627261696e2e4576656e743a32"),
        (summary, "09000000000000e03f10ffffffffffffffffff012a230a0e0a046c6f7373150000803e3a016e0a110a03696d67220a08021001180322028950"),
    ];
    for (event, bytes) in golden {
        assert_eq!(Event::decode(hex(bytes).as_slice()).unwrap(), event);
        assert_eq!(event.encode_to_vec(), hex(bytes));
    }
}

#[test]
fn first_event_is_file_version() {
    let dir = tempfile::tempdir().unwrap();
    let writer = EventWriter::create(dir.path()).unwrap();
    let name = writer.path().file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    assert!(
        name.ends_with(&format!(".{}.0", std::process::id())),
        "{name}"
    );
    let events = read_events(writer.path()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].what, Some(What::FileVersion(FILE_VERSION.into())));
    let now = wall_time();
    assert!(
        (now - events[0].wall_time).abs() < 60.0,
        "{}",
        events[0].wall_time
    );
}

#[test]
fn creates_missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("run/tb");
    let writer = EventWriter::create(&nested).unwrap();
    assert_eq!(writer.path().parent().unwrap(), nested);
}

#[test]
fn scalars_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    let mut expected = Vec::new();
    for step in 1..=5 {
        let loss = 1.0 / step as f64;
        writer.scalar("loss/train", step, loss).unwrap();
        writer
            .scalars(
                step,
                &[("acc/clean", 0.5 + 0.01 * step as f64), ("acc/robust", 0.1)],
            )
            .unwrap();
        writer.flush().unwrap();
        expected.push(("loss/train".to_string(), step, loss as f32));
        expected.push((
            "acc/clean".to_string(),
            step,
            (0.5 + 0.01 * step as f64) as f32,
        ));
        expected.push(("acc/robust".to_string(), step, 0.1f32));
    }
    let events = read_events(writer.path()).unwrap();
    assert_eq!(events.len(), 1 + 2 * 5);
    assert_eq!(scalars_of(&events), expected);
}

#[test]
fn scalars_share_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    writer
        .scalars(4, &[("a", 1.0), ("b", 2.0), ("c", 3.0)])
        .unwrap();
    let events = read_events(writer.path()).unwrap();
    assert_eq!(events.len(), 2);
    let Some(What::Summary(summary)) = &events[1].what else {
        panic!("{:?}", events[1]);
    };
    let tags: Vec<&str> = summary.value.iter().map(|v| v.tag.as_str()).collect();
    assert_eq!(tags, ["a", "b", "c"]);
}

#[test]
fn non_finite_scalars_are_written_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    writer.scalar("x", 1, f64::NAN).unwrap();
    writer.scalar("x", 2, f64::INFINITY).unwrap();
    let got = scalars_of(&read_events(writer.path()).unwrap());
    assert!(got[0].2.is_nan());
    assert_eq!(got[1].2, f32::INFINITY);
}

#[test]
fn start_session_writes_a_start_log_at_its_step() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    writer.start_session(12).unwrap();
    let events = read_events(writer.path()).unwrap();
    assert_eq!(events[1].step, 12);
    let Some(What::SessionLog(log)) = &events[1].what else {
        panic!("{:?}", events[1]);
    };
    assert_eq!(log.status(), SessionStatus::Start);
}

#[test]
fn image_decodes_back_to_the_same_pixels() {
    let (width, height) = (5u32, 3u32);
    let rgb: Vec<u8> = (0..width * height * 3)
        .map(|i| (i * 17 % 256) as u8)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    writer.image("samples/fog", 3, &rgb, width, height).unwrap();
    let events = read_events(writer.path()).unwrap();
    assert_eq!(events[1].step, 3);
    let Some(What::Summary(summary)) = &events[1].what else {
        panic!("{:?}", events[1]);
    };
    assert_eq!(summary.value[0].tag, "samples/fog");
    let Some(value::Value::Image(image)) = &summary.value[0].value else {
        panic!("{summary:?}");
    };
    assert_eq!((image.width, image.height, image.colorspace), (5, 3, RGB));
    let decoded =
        image::load_from_memory_with_format(&image.encoded_image_string, image::ImageFormat::Png)
            .unwrap()
            .into_rgb8();
    assert_eq!(decoded.dimensions(), (width, height));
    assert_eq!(decoded.into_raw(), rgb);
}

#[test]
fn wrong_image_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    let err = writer.image("sample", 1, &[0u8; 10], 2, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "image `sample`: the RGB buffer holds 10 bytes, but 2x2 pixels need 12 (width * height * 3)"
    );
    let err = writer.image("empty", 1, &[], 0, 4).unwrap_err();
    assert_eq!(err.to_string(), "image `empty`: 0x4 has no pixels");
    // Nothing was written, and the writer still works.
    assert_eq!(read_events(writer.path()).unwrap().len(), 1);
    writer.image("sample", 1, &[0u8; 12], 2, 2).unwrap();
    assert_eq!(read_events(writer.path()).unwrap().len(), 2);
}

#[test]
fn two_writers_in_one_folder_make_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = EventWriter::create(dir.path()).unwrap();
    let mut second = EventWriter::create(dir.path()).unwrap();
    assert_ne!(first.path(), second.path());
    first.scalar("a", 1, 1.0).unwrap();
    second.scalar("b", 2, 2.0).unwrap();
    let count = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(count, 2);
    let a = scalars_of(&read_events(first.path()).unwrap());
    let b = scalars_of(&read_events(second.path()).unwrap());
    assert_eq!(a, [("a".to_string(), 1, 1.0)]);
    assert_eq!(b, [("b".to_string(), 2, 2.0)]);
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("events.out.tfevents.1.host.2.0");
    std::fs::write(&taken, b"keep me").unwrap();
    let (path, _file) = open_new(dir.path(), "events.out.tfevents.1.host.2").unwrap();
    assert_eq!(path, dir.path().join("events.out.tfevents.1.host.2.1"));
    assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
}

#[test]
fn a_corrupt_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    writer.scalar("loss", 1, 0.5).unwrap();
    let path = only_file(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 6; // inside the last record's data
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = read_events(&path).unwrap_err();
    assert!(err.contains("record 1: data CRC mismatch"), "{err}");
}

#[test]
fn io_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"").unwrap();
    let err = EventWriter::create(&file.join("tb")).unwrap_err();
    assert!(matches!(err, TensorboardError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains(&*file.to_string_lossy()), "{err}");
}

#[test]
fn hostname_is_fit_for_a_file_name() {
    let name = hostname();
    assert!(!name.is_empty());
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "{name}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_stops_further_writes() {
    let path = PathBuf::from("/dev/full");
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    let mut writer = EventWriter {
        path,
        file,
        broken: false,
    };
    let err = writer.scalar("loss", 1, 0.5).unwrap_err();
    assert!(err.to_string().starts_with("writing /dev/full: "), "{err}");
    let err = writer.scalar("loss", 2, 0.5).unwrap_err();
    assert!(matches!(err, TensorboardError::Broken { .. }), "{err:?}");
}
