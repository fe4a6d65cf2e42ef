//! Reading an HTTP answer's body with a cap, shared by the service's client and the IdP clients.

/// The body, read as it arrives and given up as soon as it exceeds `cap` (`Err(None)`), so that
/// an endless or huge answer costs at most `cap` bytes of memory.
pub async fn read(mut resp: reqwest::Response, cap: u64) -> Result<Vec<u8>, Option<reqwest::Error>> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Some)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
