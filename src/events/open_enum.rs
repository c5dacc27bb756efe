//! A macro for the schema's open string enums.
//!
//! The service keeps adding values to its enums (`messageType`, `status`, `channelType`,
//! `interactive.type`), so every one of them is an *open* enum: known values get a variant, any
//! other value is kept as it came in `Other(String)`, and nothing is ever rejected for its value.
//! Matching is case-insensitive because casing varies between sources (`Sent`, `delivered`).

/// Declares an open enum that deserializes from a JSON string, case-insensitively.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as it arrived.
            Other(String),
        }

        impl $name {
            /// Reads a wire value, ignoring ASCII case; unknown values become `Other`.
            pub fn from_wire(value: &str) -> Self {
                $( if value.eq_ignore_ascii_case($wire) { return Self::$variant; } )+
                Self::Other(value.to_owned())
            }

            /// The value in the schema's spelling, or the unknown value as it arrived.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(value) => value,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_wire(&value))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use open_enum;
