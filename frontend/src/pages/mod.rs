pub mod client_details;
pub mod client_form;
pub mod clients_list;
pub mod sign_in;
