//! The part of TensorFlow's `Event` and `Summary` messages that [`super::EventWriter`] writes,
//! declared by hand with the field numbers of TensorBoard's `tensorboard/compat/proto/event.proto`
//! and `summary.proto` (so no `protoc` or build script is needed). Fields not listed here are
//! unknown to this code and skipped when a message is decoded.

/// One record of an event file (`tensorboard.Event`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step (here, the epoch) the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "event::What", tags = "3, 5, 7")]
    pub what: Option<event::What>,
}

/// Types nested in [`Event`].
pub mod event {
    /// The `what` oneof of `tensorboard.Event` (`graph_def = 4`, `log_message = 6` and the
    /// higher numbers are not written here).
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum What {
        /// The file format version; the first event of a file, `brain.Event:2`.
        #[prost(string, tag = "3")]
        FileVersion(String),
        /// Summary values: scalars, images.
        #[prost(message, tag = "5")]
        Summary(super::Summary),
        /// A session's start, stop or checkpoint.
        #[prost(message, tag = "7")]
        SessionLog(super::SessionLog),
    }
}

/// A session's life cycle (`tensorboard.SessionLog`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// A [`session_log::SessionStatus`] as its number.
    #[prost(enumeration = "session_log::SessionStatus", tag = "1")]
    pub status: i32,
    /// The checkpoint written, for [`session_log::SessionStatus::Checkpoint`].
    #[prost(string, tag = "2")]
    pub checkpoint_path: String,
    /// A free-form message.
    #[prost(string, tag = "3")]
    pub msg: String,
}

/// Types nested in [`SessionLog`].
pub mod session_log {
    /// `tensorboard.SessionLog.SessionStatus`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum SessionStatus {
        /// Not set.
        StatusUnspecified = 0,
        /// A session (re)started; readers drop earlier events at this step or later.
        Start = 1,
        /// A session ended.
        Stop = 2,
        /// A checkpoint was written.
        Checkpoint = 3,
    }
}

/// A set of tagged values logged together (`tensorboard.Summary`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<summary::Value>,
}

/// Types nested in [`Summary`].
pub mod summary {
    /// An encoded image (`tensorboard.Summary.Image`).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Image {
        /// Height in pixels.
        #[prost(int32, tag = "1")]
        pub height: i32,
        /// Width in pixels.
        #[prost(int32, tag = "2")]
        pub width: i32,
        /// Channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA, 5 DIGITAL_YUV, 6 BGRA.
        #[prost(int32, tag = "3")]
        pub colorspace: i32,
        /// The image as a PNG (or JPEG) file.
        #[prost(bytes = "vec", tag = "4")]
        pub encoded_image_string: Vec<u8>,
    }

    /// One tagged value (`tensorboard.Summary.Value`).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        /// The series name TensorBoard shows (`loss/train`).
        #[prost(string, tag = "1")]
        pub tag: String,
        /// Unused by TensorBoard's dashboards; kept for completeness.
        #[prost(string, tag = "7")]
        pub node_name: String,
        /// The value itself.
        #[prost(oneof = "value::Value", tags = "2, 4")]
        pub value: Option<value::Value>,
    }

    /// Types nested in [`Value`].
    pub mod value {
        /// The `value` oneof of `tensorboard.Summary.Value` (histograms, audio and tensors are
        /// not written here).
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            /// A scalar, which TensorBoard plots against the step.
            #[prost(float, tag = "2")]
            SimpleValue(f32),
            /// An image.
            #[prost(message, tag = "4")]
            Image(super::Image),
        }
    }
}
