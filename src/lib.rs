pub mod camera;
pub mod panel;
